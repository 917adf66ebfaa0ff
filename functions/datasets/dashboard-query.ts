import { DependencyUnavailable, NotFound } from '#errors';
import type { Dashboard } from '#control/dashboards';
import type { Dataset, DatasetRepository } from '#control/datasets';
import type { RlsRule } from '#control/records';
import type { RlsRepository } from '#control/rls';
import type { TableGateway } from '#control/table-gateway';
import type { Caller } from '#shared/identity';
import type { EffectiveParameters } from '#token/param-types';
import type { QueryResultCache } from './cache.ts';
import { compileDatasetQuery, datasetSnapshot, type QueryPlan } from './compiler.ts';
import { type ExecuteOptions, executeDatasetQueries, type QueryResult, type QueryStats } from './executor.ts';
import { type EffectiveRlsContext, referencedMappingIds, resolveRlsContext } from './rls.ts';
import type { WidgetQuery } from './widget.ts';

/**
 * Running queries for a viewer. Every entry point resolves the viewer's RLS context from the
 * stored rules and the verified identity, and compiles through `compileDatasetQuery`; there is
 * no other way to read rows.
 *
 * Consistency with imports: a reader reads the dataset item (active version), runs its
 * queries, then re-reads the active version with a strongly consistent read. Old versions are
 * only deleted after the switch, so if the version is unchanged, every row read belonged to one
 * complete version; if it changed, the reader retries on the new version (a seqlock).
 */

export interface QueryDependencies {
  readonly datasets: DatasetRepository;
  readonly rls: RlsRepository;
  /** The data table as the viewer's tenant (tenant-scoped credentials). */
  readonly data: TableGateway;
  readonly cache?: QueryResultCache;
  readonly execute?: Omit<ExecuteOptions, 'table'>;
  /** False: answer every widget from raw rows (benchmarks compare both). Default true. */
  readonly useRollups?: boolean;
}

/**
 * Reads a caller already started (the query path starts them beside the session check, one round
 * trip earlier): the first, eventually consistent read of each dataset item and of its RLS rules.
 * Handed down as data; anything missing is read here. Consistent re-reads (the version check)
 * always go to the table.
 */
export interface PrefetchedReads {
  readonly datasets?: ReadonlyMap<string, Promise<Dataset>>;
  readonly rules?: ReadonlyMap<string, Promise<RlsRule[] | undefined>>;
}

export interface ViewerContext {
  readonly caller: Caller;
  /** Only the parameters the embed locks (RLS may take values from these, never from editable ones). */
  readonly lockedParams: EffectiveParameters;
  /** All effective parameters (locked and editable), as `resolveParameters` returns them. */
  readonly parameters: EffectiveParameters;
}

export interface WidgetResult {
  readonly columns: QueryResult['columns'];
  readonly rows: QueryResult['rows'];
  readonly truncated: boolean;
}

const MAX_VERSION_RETRIES = 3;

/**
 * Runs every widget of a dashboard (or the listed ones) for one viewer: `{ widgets: { <id>: {
 * columns, rows, truncated } }, stats }`. The dashboard must belong to the caller's tenant.
 */
export async function runDashboardQuery(
  input: ViewerContext & { readonly dashboard: Dashboard; readonly widgetIds?: readonly string[] },
  deps: QueryDependencies,
  prefetched: PrefetchedReads = {},
): Promise<{ widgets: Record<string, WidgetResult>; stats: Record<string, QueryStats>; reads: QueryStats }> {
  if (input.dashboard.tenantId !== input.caller.tenantId) throw new NotFound('dashboard');
  const wanted = input.widgetIds ? new Set(input.widgetIds) : undefined;
  const widgets = input.dashboard.widgets.filter((widget) => !wanted || wanted.has(widget.id));
  const byDataset = new Map<string, typeof widgets>();
  for (const widget of widgets) byDataset.set(widget.datasetId, [...(byDataset.get(widget.datasetId) ?? []), widget]);

  const results: Record<string, WidgetResult> = {};
  const stats: Record<string, QueryStats> = {};
  const reads: QueryStats = { itemsRead: 0, rowsMatched: 0, consumedRead: 0, queries: 0, partitions: 0 };
  await Promise.all(
    [...byDataset.entries()].map(async ([datasetId, datasetWidgets]) => {
      const { results: outcome, reads: datasetReads } = await runOnDataset(
        input,
        datasetId,
        datasetWidgets.map((widget) => widget.query),
        deps,
        prefetched,
      );
      datasetWidgets.forEach((widget, i) => {
        const result = outcome[i]!;
        results[widget.id] = { columns: result.columns, rows: result.rows, truncated: result.truncated };
        stats[widget.id] = result.stats;
      });
      for (const field of Object.keys(reads) as (keyof QueryStats)[]) reads[field] += datasetReads[field];
    }),
  );
  return { widgets: results, stats, reads };
}

/**
 * Runs one ad-hoc query over a dataset for one viewer (export, drill-down, totals): the same
 * RLS resolution, compiler and version check as dashboards.
 */
export async function queryDataset(
  input: ViewerContext & { readonly datasetId: string; readonly widgetQuery: WidgetQuery },
  deps: QueryDependencies,
): Promise<QueryResult> {
  const { results } = await runOnDataset(input, input.datasetId, [input.widgetQuery], deps);
  return results[0]!;
}

/** The effective RLS context of a viewer on a dataset, from the stored rules and mappings. */
export async function loadRlsContext(
  viewer: Pick<ViewerContext, 'caller' | 'lockedParams'>,
  datasetId: string,
  rls: RlsRepository,
  rulesRead?: Promise<RlsRule[] | undefined>,
): Promise<EffectiveRlsContext> {
  const rules = await (rulesRead ?? rls.getRules(viewer.caller.tenantId, datasetId));
  const mappingIds = referencedMappingIds(rules ?? []);
  const mappings = mappingIds.length > 0 ? await rls.getMappings(viewer.caller.tenantId, mappingIds) : new Map();
  return resolveRlsContext({ rules, caller: viewer.caller, lockedParams: viewer.lockedParams, mappings });
}

async function runOnDataset(
  viewer: ViewerContext,
  datasetId: string,
  queries: readonly WidgetQuery[],
  deps: QueryDependencies,
  prefetched: PrefetchedReads = {},
): Promise<{ results: QueryResult[]; reads: QueryStats }> {
  // The tenant is always the caller's verified tenant: a widget cannot point into another tenant.
  const tenantId = viewer.caller.tenantId;
  // The RLS context and the dataset item are independent reads: fetch them together.
  const [rls, firstRead] = await Promise.all([
    loadRlsContext(viewer, datasetId, deps.rls, prefetched.rules?.get(datasetId)),
    prefetched.datasets?.get(datasetId) ?? deps.datasets.require(tenantId, datasetId),
  ]);
  for (let attempt = 0; attempt < MAX_VERSION_RETRIES; attempt++) {
    const dataset: Dataset =
      attempt === 0 ? firstRead : await deps.datasets.require(tenantId, datasetId, { consistent: true });
    const snapshot = datasetSnapshot(dataset);
    const plans = queries.map((widgetQuery) =>
      compileDatasetQuery({
        schema: dataset.schema,
        dataset: snapshot,
        widgetQuery,
        rls,
        parameters: viewer.parameters,
        ...(deps.useRollups === false ? { useRollups: false } : {}),
      }),
    );
    const fromCache = plans.map((plan) => deps.cache?.get(plan.cacheKey));
    const toRead = plans.filter((_plan, i) => !fromCache[i]);
    const executed = await executeDatasetQueries(toRead, { ...deps.execute, table: deps.data });
    let next = 0;
    const results = plans.map((_plan, i) => fromCache[i] ?? executed.results[next++]!);
    const read = toRead.filter((plan) => !plan.empty);
    if (read.length > 0 && !(await sameVersionState(deps, tenantId, datasetId, dataset, read))) {
      continue; // An import switched versions (or a rollup changed) while we read: read again.
    }
    plans.forEach((plan, i) => {
      if (!fromCache[i] && !plan.empty) deps.cache?.set(plan.cacheKey, results[i]!);
    });
    return { results, reads: executed.reads };
  }
  throw new DependencyUnavailable({ cause: new Error('dataset version kept changing during the query') });
}

/**
 * The seqlock check after reading: the version read is still the active one and every rollup a
 * plan used still has the generation and build it was read with (a rollup dropped or redeclared
 * meanwhile may have lost items under the reader).
 */
async function sameVersionState(
  deps: QueryDependencies,
  tenantId: string,
  datasetId: string,
  dataset: Dataset,
  plans: readonly QueryPlan[],
): Promise<boolean> {
  const usedRollups = new Set(plans.flatMap((plan) => (plan.source.kind === 'rollup' ? [plan.source.rollupId] : [])));
  if (usedRollups.size === 0) return (await deps.datasets.activeVersion(tenantId, datasetId)) === dataset.activeVersion;
  const state = await deps.datasets.versionState(tenantId, datasetId);
  if (!state || state.activeVersion !== dataset.activeVersion) return false;
  return [...usedRollups].every((id) => {
    const before = dataset.rollups.find((rollup) => rollup.id === id);
    const now = state.rollups.find((rollup) => rollup.id === id);
    return before && now && before.generation === now.generation && now.buildVersion === dataset.activeVersion;
  });
}
