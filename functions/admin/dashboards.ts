import { QueryInvalid, ValidationFailed } from '#errors';
import type { Dashboard, DashboardRepository } from '#control/dashboards';
import type { Dataset, DatasetRepository } from '#control/datasets';
import { assertResourceId, assertTenantId } from '#control/keys';
import type { RlsRepository } from '#control/rls';
import { explainWidgetSource, type WidgetSourceReport } from '#datasets/compiler';
import { validateWidget, type Widget } from '#datasets/widget';
import type { EffectiveParameters, ParameterDefinition } from '#token/param-types';

export const MAX_WIDGETS = 50;
export const MAX_PARAMETERS = 30;
export const MAX_TITLE_LENGTH = 200;
const PARAMETER_TYPES = new Set(['string', 'number', 'boolean', 'date', 'dateRange', 'stringList']);

export interface DashboardAdminDeps {
  readonly dashboards: DashboardRepository;
  readonly datasets: DatasetRepository;
  /** The RLS rules decide which rollups may serve a widget; without them every RLS column is unknown. */
  readonly rls?: RlsRepository;
}

/** A saved dashboard and, per widget, the source the planner will read it from. */
export type SavedDashboard = Dashboard & { readonly sources: Readonly<Record<string, WidgetSourceReport>> };

/** An untrusted dashboard definition, as the admin API receives it. */
export interface DashboardInput {
  readonly tenantId: string;
  readonly dashboardId: string;
  readonly title: string;
  readonly parameters?: readonly ParameterDefinition[];
  readonly widgets: readonly unknown[];
}

/**
 * Creates or replaces a dashboard after validating its parameters and every widget against its
 * dataset's schema and the declared parameters. A widget error is `QUERY_INVALID` naming the
 * widget (`details.widget`, or `details.widgetIndex` when it has no valid id); a widget over a
 * dataset the tenant does not have is `NOT_FOUND`.
 */
export async function saveDashboard(deps: DashboardAdminDeps, input: DashboardInput): Promise<SavedDashboard> {
  const tenantId = assertTenantId(input.tenantId);
  const dashboardId = assertResourceId(input.dashboardId, 'dashboardId');
  if (typeof input.title !== 'string' || input.title.length === 0 || input.title.length > MAX_TITLE_LENGTH) {
    throw new ValidationFailed('title', `must be 1 to ${MAX_TITLE_LENGTH} characters`);
  }
  const parameters = validateParameters(input.parameters ?? []);
  if (!Array.isArray(input.widgets) || input.widgets.length > MAX_WIDGETS) {
    throw new ValidationFailed('widgets', `must be a list of at most ${MAX_WIDGETS}`);
  }
  const datasets = new Map<string, Promise<Dataset>>();
  const widgets: Widget[] = [];
  for (const [index, raw] of input.widgets.entries()) {
    try {
      const datasetId = (raw as { datasetId?: unknown } | null)?.datasetId;
      if (typeof datasetId !== 'string') throw new QueryInvalid('the widget dataset id is invalid');
      let dataset = datasets.get(datasetId);
      if (!dataset) {
        dataset = deps.datasets.require(tenantId, assertResourceId(datasetId, 'datasetId'));
        datasets.set(datasetId, dataset);
      }
      widgets.push(validateWidget(raw, (await dataset).schema, parameters));
    } catch (error) {
      if (error instanceof QueryInvalid && error.details?.widget === undefined) {
        throw new QueryInvalid(error.reason, { ...error.details, widgetIndex: index });
      }
      throw error;
    }
  }
  const ids = new Set<string>();
  for (const widget of widgets) {
    if (ids.has(widget.id)) throw new QueryInvalid('duplicate widget id', { widget: widget.id });
    ids.add(widget.id);
  }
  const saved = await deps.dashboards.save({ tenantId, dashboardId, title: input.title, parameters, widgets });
  return { ...saved, sources: await widgetSources(deps, tenantId, widgets, parameters, datasets) };
}

/**
 * Per widget, which source will serve it (`rollup:<id>` or `raw` with the reason), for a viewer
 * restricted on every RLS column of its dataset and the default parameter values: what an author
 * needs to see to add the rollup a widget lacks.
 */
async function widgetSources(
  deps: DashboardAdminDeps,
  tenantId: string,
  widgets: readonly Widget[],
  parameters: readonly ParameterDefinition[],
  datasets: ReadonlyMap<string, Promise<Dataset>>,
): Promise<Record<string, WidgetSourceReport>> {
  const defaults: EffectiveParameters = Object.fromEntries(
    parameters.flatMap((p) => (p.default !== undefined ? [[p.name, p.default]] : [])),
  );
  const rules = new Map<string, Promise<string[]>>();
  const sources: Record<string, WidgetSourceReport> = {};
  for (const widget of widgets) {
    const dataset = await datasets.get(widget.datasetId)!;
    let columns = rules.get(widget.datasetId);
    if (!columns) {
      columns = (deps.rls?.getRules(tenantId, widget.datasetId) ?? Promise.resolve(undefined)).then((found) =>
        (found ?? []).map((rule) => rule.column),
      );
      rules.set(widget.datasetId, columns);
    }
    sources[widget.id] = explainWidgetSource({
      schema: dataset.schema,
      rollups: dataset.rollups,
      rlsColumns: await columns,
      widgetQuery: widget.query,
      parameters: defaults,
    });
  }
  return sources;
}

function validateParameters(input: readonly ParameterDefinition[]): ParameterDefinition[] {
  if (!Array.isArray(input) || input.length > MAX_PARAMETERS) {
    throw new ValidationFailed('parameters', `must be a list of at most ${MAX_PARAMETERS}`);
  }
  const names = new Set<string>();
  for (const parameter of input) {
    if (typeof parameter?.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(parameter.name)) {
      throw new ValidationFailed('parameters', 'every parameter needs a name matching ^[A-Za-z0-9_-]{1,64}$');
    }
    if (Object.hasOwn(Object.prototype, parameter.name) || parameter.name === 'prototype') {
      // Names of Object.prototype members are refused everywhere a viewer names a parameter: a
      // dashboard declaring one could never have it set.
      throw new ValidationFailed(`parameters.${parameter.name}`, 'is a reserved name');
    }
    if (!PARAMETER_TYPES.has(parameter.type)) {
      throw new ValidationFailed(
        `parameters.${parameter.name}.type`,
        `must be one of ${[...PARAMETER_TYPES].map((t) => JSON.stringify(t)).join(', ')}`,
      );
    }
    if (names.has(parameter.name)) throw new ValidationFailed(`parameters.${parameter.name}`, 'is declared twice');
    names.add(parameter.name);
  }
  return [...input];
}
