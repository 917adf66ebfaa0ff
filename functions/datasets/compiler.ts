import { createHash } from 'node:crypto';
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { QueryInvalid } from '#errors';
import type { Dataset } from '#control/datasets';
import type { StoredRollup } from '#control/records';
import type { DateRange, EffectiveParameters, ParamValue } from '#token/param-types';
import {
  type Predicate,
  type ValueRange,
  intersectRanges,
  isPoint,
  matchesPredicate,
  pointsOf,
  uniqueValues,
} from './predicates.ts';
import type { EffectiveRlsContext } from './rls.ts';
import {
  rollupCountAttribute,
  rollupMaxAttribute,
  rollupMinAttribute,
  ROLLUP_ROWS,
  rollupSumAttribute,
} from './aggregate.ts';
import { dataPartitionKey, indexPartitionKey, SORT_KEY_UPPER_SENTINEL, versionKeyPrefix } from './row-keys.ts';
import { readyRollups, rollupCoverageGap, rollupKeyspace, rollupPartitions } from './rollups.ts';
import { type ColumnType, type DatasetSchema, findColumn } from './schema.ts';
import { type CellValue, coerceQueryValue, encodeKeyValue, isDateOnly, utcDayBounds } from './values.ts';
import {
  type FilterLiteral,
  type GroupBy,
  isParamRef,
  MAX_IN_VALUES,
  type Metric,
  type OrderBy,
  type WidgetFilter,
  type WidgetQuery,
  validateWidgetQuery,
} from './widget.ts';

/**
 * The one query compiler. Every read of dataset rows (widget data, totals, export, drill) goes
 * through `compileDatasetQuery`, which ANDs the viewer's RLS context with the locked and
 * editable parameters and the widget's filters, then turns the result into DynamoDB `Query`
 * requests:
 * - predicates on the partition column select which partitions are queried (one `Query` per
 *   allowed partition value; never a Scan), so a viewer's cost follows what it may see;
 * - predicates on the sort column become the `KeyConditionExpression`;
 * - everything else becomes a `FilterExpression`.
 * Names come only from the schema and always travel as `ExpressionAttributeNames`; values
 * always travel as `ExpressionAttributeValues`.
 */

/** What the compiler needs to know about the dataset's stored data: its active version. */
export interface DatasetSnapshot {
  readonly tenantId: string;
  readonly datasetId: string;
  /** Null when nothing was imported yet. */
  readonly version: string | null;
  /** Every partition-column value present in that version. */
  readonly partitionValues: readonly CellValue[];
  /** Rows in that version (the planner's cost estimate of raw reads). */
  readonly rowCount?: number;
  /** Rollups built for that version; the planner may answer aggregates from them. */
  readonly rollups?: readonly StoredRollup[];
}

/** The compiler's view of a stored dataset: tenant, id, active version, its partition values and ready rollups. */
export function datasetSnapshot(dataset: Dataset): DatasetSnapshot {
  return {
    tenantId: dataset.tenantId,
    datasetId: dataset.datasetId,
    version: dataset.activeVersion,
    partitionValues: dataset.partitionValues,
    rowCount: dataset.rowCount,
    rollups: readyRollups(dataset.rollups, dataset.activeVersion),
  };
}

/** One DynamoDB `Query` request, without the table name (the executor adds it). */
export interface PlannedQuery {
  readonly IndexName?: string;
  readonly KeyConditionExpression: string;
  /** False: newest first (a top-N read of a descending order). */
  readonly ScanIndexForward?: boolean;
  readonly FilterExpression?: string;
  readonly ProjectionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, NativeAttributeValue>;
}

export type OutputSpec =
  | {
      readonly kind: 'rows';
      readonly columns: readonly string[];
      readonly orderBy: readonly OrderBy[];
      /** The widget's own limit, if any (an explicit limit never sets the truncation flag). */
      readonly limit?: number;
    }
  | {
      readonly kind: 'aggregate';
      readonly groupBy: readonly GroupBy[];
      readonly metrics: readonly Metric[];
      readonly orderBy: readonly OrderBy[];
      readonly limit?: number;
    };

export interface QueryPlan {
  readonly schema: DatasetSchema;
  /** True when the result is known to be empty without reading anything (RLS denies, contradiction, no data). */
  readonly empty: boolean;
  readonly queries: readonly PlannedQuery[];
  /** Checked in memory on every item read: the RLS predicates (defence in depth) and predicates too large to push down. */
  readonly residual: readonly Predicate[];
  readonly output: OutputSpec;
  /** Hash of tenant, dataset version, effective RLS context, parameters and query: the only key a cache may use. */
  readonly cacheKey: string;
  /** Predicates the `FilterExpression` enforces (re-checked in memory when a read is shared without it). */
  readonly pushed: readonly Predicate[];
  /** How the plan reads the data, for stats and tests: `table`, `gsi1`, `gsi2`, `rollup` or `none`. */
  readonly access: 'table' | 'gsi1' | 'gsi2' | 'rollup' | 'none';
  /** Where the answer comes from: a rollup, or raw rows (with the reason no rollup could serve). */
  readonly source: PlanSource;
  /**
   * Top-N pushdown of plain rows ordered by the sort key: each partition is read in key order
   * (`ScanIndexForward` for the direction). When that order is the output order itself (one
   * order key, on the table: rows tie-break by table key in the same direction, see
   * `rowTieBreak`), a partition stops after `limit` matching rows (`exact`); otherwise it stops
   * once `limit` rows matched and the sort value changed (ties at the cut are read whole).
   */
  readonly topN?: { readonly limit: number; readonly sortColumn: string; readonly exact: boolean };
  /**
   * `<tenant>#<dataset>#<version>#`: every item read must carry a table key with this prefix.
   * IAM checks only the key a request names (an index key); this checks the item itself.
   */
  readonly keyPrefix: string;
}

export type PlanSource =
  | { readonly kind: 'raw'; readonly reason?: string }
  | { readonly kind: 'rollup'; readonly rollupId: string };

/**
 * Compiles a widget query for one viewer. Throws `QueryInvalid` when the query does not fit the
 * schema or a parameter value does not fit the column it filters.
 */
export function compileDatasetQuery(input: {
  readonly schema: DatasetSchema;
  readonly dataset: DatasetSnapshot;
  readonly widgetQuery: WidgetQuery;
  readonly rls: EffectiveRlsContext;
  readonly parameters: EffectiveParameters;
  /** False: never answer from rollups (benchmarks, comparisons). Default true. */
  readonly useRollups?: boolean;
}): QueryPlan {
  const { schema, dataset, rls, parameters } = input;
  const query = validateWidgetQuery(input.widgetQuery, schema);
  const output = outputSpec(schema, query);
  const cacheKey = queryCacheKey({
    tenantId: dataset.tenantId,
    datasetId: dataset.datasetId,
    version: dataset.version,
    rls,
    parameters,
    widgetQuery: query,
  });
  const emptyPlan = (): QueryPlan => ({
    schema,
    empty: true,
    queries: [],
    residual: [],
    pushed: [],
    output,
    cacheKey,
    access: 'none',
    source: { kind: 'raw' },
    keyPrefix: '',
  });

  // Deny by default: nothing is read for a viewer no rule grants.
  if (rls.denyAll || dataset.version === null) return emptyPlan();

  const predicates: Predicate[] = [];
  for (const [column, allowed] of Object.entries(rls.columns)) {
    if (allowed === '*') continue;
    const definition = findColumn(schema, column);
    // A rule on a column the schema no longer has cannot be satisfied: fail closed.
    if (!definition) return emptyPlan();
    const ranges = allowed.flatMap((raw) => {
      const value = coerceQueryValue(definition.type, raw);
      return value === undefined ? [] : [equalityRange(definition.type, raw, value)];
    });
    predicates.push({ column, kind: 'ranges', ranges, rls: true });
  }
  for (const filter of query.filters ?? []) {
    const predicate = filterPredicate(schema, filter, parameters);
    if (predicate) predicates.push(predicate);
  }
  if (predicates.some((p) => p.kind === 'ranges' && p.ranges.length === 0)) return emptyPlan();

  const access = chooseAccess(schema, dataset, predicates);
  if (access.partitions.length === 0) return emptyPlan();

  let rawReason: string | undefined;
  if (output.kind === 'aggregate') {
    const choice = chooseRollup(dataset, predicates, output, access, input.useRollups !== false);
    if (choice.kind === 'rollup') {
      return rollupPlan(schema, dataset, choice.rollup, predicates, output, cacheKey) ?? emptyPlan();
    }
    rawReason = choice.reason;
  } else {
    rawReason = 'plain rows are read from the rows themselves';
  }

  const names = new NameRegistry();
  const values = new ValueRegistry();
  const keyPredicates = new Set<Predicate>(access.consumed);
  const sortColumn = access.index === undefined ? schema.sortColumn : schema.indexes![access.index - 1]!.sortColumn;
  const sortCondition = sortColumn
    ? sortKeyCondition(schema, sortColumn, predicates, keyPredicates)
    : { condition: undefined };
  if (sortCondition.contradiction) return emptyPlan();

  const residual = predicates.filter((p) => p.rls === true);
  const pushed: Predicate[] = [];
  const filterParts: string[] = [];
  for (const predicate of predicates) {
    if (keyPredicates.has(predicate)) continue;
    const expression = filterExpression(predicate, names, values);
    if (expression) {
      filterParts.push(expression);
      pushed.push(predicate);
    } else if (!predicate.rls) residual.push(predicate);
  }
  const topN =
    output.kind === 'rows' && output.limit !== undefined && sortColumn && output.orderBy[0]?.key === sortColumn
      ? {
          limit: output.limit,
          sortColumn,
          // On the table the key is `<sort value>#<row id>`, so key order is (sort value, then
          // table key): exactly the output order when the sort column is the only order key.
          exact: access.index === undefined && output.orderBy.length === 1,
        }
      : undefined;
  const descending = topN !== undefined && output.orderBy[0]?.direction === 'desc';

  // Pushed predicates' columns too: a shared read sends no FilterExpression and checks every
  // consumer's pushed predicates in memory, so it must read those columns.
  const projected = new Set<string>(neededColumns(schema, output, [...residual, ...pushed]));
  const projection = ['#pk', '#sk', ...[...projected].map((column) => names.name(column))].join(', ');
  const keyName = access.index === undefined ? 'pk' : `gsi${access.index}pk`;
  const sortKeyName = access.index === undefined ? 'sk' : `gsi${access.index}sk`;
  const baseNames = {
    '#pk': 'pk',
    '#sk': 'sk',
    '#kp': keyName,
    ...(sortCondition.condition ? { '#ks': sortKeyName } : {}),
  };
  const prefix = versionKeyPrefix(dataset.tenantId, dataset.datasetId, dataset.version);
  const filterExpressionText = filterParts.length > 0 ? filterParts.join(' AND ') : undefined;
  const queries = access.partitions.map((partition): PlannedQuery => {
    const partitionKey =
      access.index === undefined
        ? dataPartitionKey(schema, prefix, partition)
        : indexPartitionKey(schema, prefix, access.index, partition);
    return {
      ...(access.index !== undefined ? { IndexName: `gsi${access.index}` } : {}),
      KeyConditionExpression: `#kp = :kp${sortCondition.condition ? ` AND ${sortCondition.condition.expression}` : ''}`,
      ...(descending ? { ScanIndexForward: false } : {}),
      ...(filterExpressionText ? { FilterExpression: filterExpressionText } : {}),
      ProjectionExpression: projection,
      ExpressionAttributeNames: { ...baseNames, ...names.all() },
      ExpressionAttributeValues: { ':kp': partitionKey, ...(sortCondition.condition?.values ?? {}), ...values.all() },
    };
  });
  return {
    schema,
    empty: false,
    queries,
    residual,
    pushed,
    output,
    cacheKey,
    access: access.index === undefined ? 'table' : access.index === 1 ? 'gsi1' : 'gsi2',
    source: { kind: 'raw', ...(rawReason ? { reason: rawReason } : {}) },
    ...(topN ? { topN } : {}),
    keyPrefix: prefix,
  };
}

type AggregateOutput = Extract<OutputSpec, { kind: 'aggregate' }>;

/**
 * The planner's choice between raw rows and the rollups built for this version: a rollup may
 * serve only when it covers every predicate (RLS included), group and metric exactly; among
 * those, the one with the fewest estimated items, if it reads no more than the raw rows would.
 */
function chooseRollup(
  dataset: DatasetSnapshot,
  predicates: readonly Predicate[],
  output: AggregateOutput,
  access: AccessChoice,
  enabled: boolean,
): { kind: 'rollup'; rollup: StoredRollup } | { kind: 'raw'; reason: string } {
  const rollups = dataset.rollups ?? [];
  if (!enabled) return { kind: 'raw', reason: 'rollups are turned off for this query' };
  if (rollups.length === 0) return { kind: 'raw', reason: 'no rollup is built for this dataset version' };
  const totalPartitions = Math.max(1, uniqueValues(dataset.partitionValues).length);
  const rawEstimate = ((dataset.rowCount ?? Number.MAX_SAFE_INTEGER) * access.partitions.length) / totalPartitions;
  const gaps: string[] = [];
  let best: { rollup: StoredRollup; estimate: number } | undefined;
  for (const rollup of rollups) {
    const gap = rollupCoverageGap(rollup, { predicates, groupBy: output.groupBy, metrics: output.metrics });
    if (gap) {
      gaps.push(`${rollup.id}: ${gap}`);
      continue;
    }
    const build = rollup.build!;
    const estimate =
      (build.itemCount * rollupPartitions(rollup, predicates).length) / Math.max(1, build.partitionValues.length);
    if (!best || estimate < best.estimate) best = { rollup, estimate };
  }
  if (best && best.estimate <= rawEstimate) return { kind: 'rollup', rollup: best.rollup };
  if (best) return { kind: 'raw', reason: `rollup ${best.rollup.id} would read more items than the rows` };
  return { kind: 'raw', reason: `no rollup covers this query (${gaps.join('; ')})` };
}

/**
 * The plan of an aggregate answered from a rollup: one `Query` per rollup partition the
 * predicates on its first dimension admit, the time range as a key condition on the bucket, and
 * every predicate (RLS included) re-checked in memory on every item, exactly as on rows.
 * Undefined when nothing can match.
 */
function rollupPlan(
  schema: DatasetSchema,
  dataset: DatasetSnapshot,
  rollup: StoredRollup,
  predicates: readonly Predicate[],
  output: AggregateOutput,
  cacheKey: string,
): QueryPlan | undefined {
  const partitions = rollupPartitions(rollup, predicates);
  if (partitions.length === 0) return undefined;
  let range: ValueRange | undefined = {};
  if (rollup.time) {
    for (const predicate of predicates) {
      if (predicate.column !== rollup.time.column || predicate.kind !== 'ranges' || predicate.ranges.length !== 1) {
        continue;
      }
      range = intersectRanges(range, predicate.ranges[0]!);
      if (!range) return undefined;
    }
  }
  const names = new NameRegistry();
  const attributes = new Set<string>([...rollup.dimensions, ...(rollup.time ? [rollup.time.column] : [])]);
  for (const metric of output.metrics) {
    if (!metric.column) {
      attributes.add(ROLLUP_ROWS);
      continue;
    }
    attributes.add(rollupCountAttribute(metric.column));
    if (metric.op === 'sum' || metric.op === 'avg') attributes.add(rollupSumAttribute(metric.column));
    if (metric.op === 'min') attributes.add(rollupMinAttribute(metric.column));
    if (metric.op === 'max') attributes.add(rollupMaxAttribute(metric.column));
  }
  const projection = ['#pk', '#sk', ...[...attributes].map((attribute) => names.name(attribute))].join(', ');
  const sortParts: string[] = [];
  const sortValues: Record<string, string> = {};
  if (range?.lower !== undefined) {
    sortParts.push('#ks >= :kl');
    sortValues[':kl'] = String(range.lower);
  }
  if (range?.upper !== undefined) {
    sortParts.push('#ks <= :ku');
    sortValues[':ku'] = String(range.upper);
  }
  const sortCondition =
    sortParts.length === 2 ? '#ks BETWEEN :kl AND :ku' : sortParts.length === 1 ? sortParts[0] : undefined;
  const prefix = versionKeyPrefix(dataset.tenantId, dataset.datasetId, dataset.version!);
  const queries = partitions.map(
    (partition): PlannedQuery => ({
      KeyConditionExpression: `#kp = :kp${sortCondition ? ` AND ${sortCondition}` : ''}`,
      ProjectionExpression: projection,
      ExpressionAttributeNames: {
        '#pk': 'pk',
        '#sk': 'sk',
        '#kp': 'pk',
        ...(sortCondition ? { '#ks': 'sk' } : {}),
        ...names.all(),
      },
      ExpressionAttributeValues: { ':kp': prefix + partition.key, ...sortValues },
    }),
  );
  return {
    schema,
    empty: false,
    queries,
    residual: [...predicates],
    pushed: [],
    output,
    cacheKey,
    access: 'rollup',
    source: { kind: 'rollup', rollupId: rollup.id },
    keyPrefix: prefix + rollupKeyspace(rollup),
  };
}

/**
 * The cache key of a compiled query: a SHA-256 over tenant, dataset version, the effective RLS
 * context, the effective parameters and the normalised widget query. Two viewers share an entry
 * only when all of these are equal, so a result can never cross RLS contexts.
 */
export function queryCacheKey(input: {
  readonly tenantId: string;
  readonly datasetId: string;
  readonly version: string | null;
  readonly rls: EffectiveRlsContext;
  readonly parameters: EffectiveParameters;
  readonly widgetQuery: WidgetQuery;
}): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}

// ---------------------------------------------------------------------------------------------

function outputSpec(schema: DatasetSchema, query: WidgetQuery): OutputSpec {
  const orderBy = query.orderBy ?? [];
  if ((query.groupBy?.length ?? 0) > 0 || (query.metrics?.length ?? 0) > 0) {
    return {
      kind: 'aggregate',
      groupBy: query.groupBy ?? [],
      metrics: query.metrics ?? [],
      orderBy,
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
    };
  }
  return {
    kind: 'rows',
    columns: query.columns ?? schema.columns.map((column) => column.name),
    orderBy,
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
  };
}

function neededColumns(schema: DatasetSchema, output: OutputSpec, residual: readonly Predicate[]): string[] {
  const columns = new Set<string>(residual.map((p) => p.column));
  if (output.kind === 'rows') {
    for (const column of output.columns) columns.add(column);
    for (const order of output.orderBy) columns.add(order.key);
  } else {
    for (const group of output.groupBy) columns.add(group.column);
    for (const metric of output.metrics) if (metric.column) columns.add(metric.column);
  }
  return [...columns].filter((column) => findColumn(schema, column));
}

/** Equality on a value; a date-only literal on a date column means the whole UTC day. */
function equalityRange(type: ColumnType, raw: unknown, value: CellValue): ValueRange {
  if (type === 'date' && isDateOnly(raw)) {
    const day = utcDayBounds(value as string);
    return { lower: day.start, upper: day.end };
  }
  return { lower: value, upper: value };
}

function filterPredicate(
  schema: DatasetSchema,
  filter: WidgetFilter,
  parameters: EffectiveParameters,
): Predicate | undefined {
  const column = findColumn(schema, filter.column)!;
  let literal: FilterLiteral | undefined;
  let list: readonly FilterLiteral[] | undefined;
  let range: DateRange | undefined;
  if (isParamRef(filter.value)) {
    const name = filter.value.param;
    const value: ParamValue | undefined = parameters[name];
    // An optional parameter without a value drops its filter.
    if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
    if (isDateRange(value)) {
      if (filter.op !== 'between') throw paramMismatch(name, filter);
      range = value;
    } else if (Array.isArray(value)) {
      if (filter.op !== 'in' || value.length > MAX_IN_VALUES) throw paramMismatch(name, filter);
      list = value;
    } else if (filter.op === 'between') {
      throw paramMismatch(name, filter);
    } else if (filter.op === 'in') {
      list = [value as FilterLiteral];
    } else {
      literal = value as FilterLiteral;
    }
    return buildPredicate(column.name, column.type, filter.op, literal, list, range, name);
  }
  return buildPredicate(
    column.name,
    column.type,
    filter.op,
    filter.value as FilterLiteral | undefined,
    filter.op === 'between' ? undefined : filter.values,
    filter.op === 'between' ? { from: filter.values![0] as string, to: filter.values![1] as string } : undefined,
  );
}

function buildPredicate(
  column: string,
  type: ColumnType,
  op: WidgetFilter['op'],
  literal: FilterLiteral | undefined,
  list: readonly FilterLiteral[] | undefined,
  range: { from: unknown; to: unknown } | undefined,
  param?: string,
): Predicate {
  const coerce = (raw: unknown): CellValue => {
    const value = coerceQueryValue(type, raw);
    if (value === undefined) {
      throw new QueryInvalid(`the value is not a valid ${type}`, { column, op, ...(param ? { param } : {}) });
    }
    return value;
  };
  switch (op) {
    case 'eq':
      return { column, kind: 'ranges', ranges: [equalityRange(type, literal, coerce(literal))] };
    case 'in':
      return { column, kind: 'ranges', ranges: (list ?? []).map((raw) => equalityRange(type, raw, coerce(raw))) };
    case 'gte': {
      const value = coerce(literal);
      return {
        column,
        kind: 'ranges',
        ranges: [{ lower: type === 'date' && isDateOnly(literal) ? utcDayBounds(value as string).start : value }],
      };
    }
    case 'lte': {
      const value = coerce(literal);
      return {
        column,
        kind: 'ranges',
        ranges: [{ upper: type === 'date' && isDateOnly(literal) ? utcDayBounds(value as string).end : value }],
      };
    }
    case 'between': {
      const from = coerce(range!.from);
      const to = coerce(range!.to);
      const lower = type === 'date' && isDateOnly(range!.from) ? utcDayBounds(from as string).start : from;
      const upper = type === 'date' && isDateOnly(range!.to) ? utcDayBounds(to as string).end : to;
      const bounded = intersectRanges({ lower }, { upper });
      return { column, kind: 'ranges', ranges: bounded ? [bounded] : [] };
    }
    case 'begins_with': {
      if (typeof literal !== 'string' || literal.length === 0) {
        throw new QueryInvalid('begins_with needs a non-empty string', { column, op, ...(param ? { param } : {}) });
      }
      return { column, kind: 'prefix', prefix: literal };
    }
  }
}

function paramMismatch(param: string, filter: WidgetFilter): QueryInvalid {
  return new QueryInvalid(`the parameter value does not fit operator ${filter.op}`, {
    param,
    column: filter.column,
    op: filter.op,
  });
}

function isDateRange(value: ParamValue): value is DateRange {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'from' in value && 'to' in value;
}

interface AccessChoice {
  /** Undefined: the table; 1 or 2: that secondary index. */
  readonly index?: 1 | 2;
  readonly partitions: readonly CellValue[];
  /** Predicates fully enforced by the choice of partitions (not needed in the FilterExpression). */
  readonly consumed: readonly Predicate[];
}

/**
 * Picks the partitions to query. The table is used whenever the partition column is
 * constrained (its stored partition values are filtered by every predicate on it); otherwise a
 * secondary index whose partition column is constrained to a finite set; otherwise every
 * stored partition of the version.
 */
function chooseAccess(schema: DatasetSchema, dataset: DatasetSnapshot, predicates: readonly Predicate[]): AccessChoice {
  const onColumn = (column: string) => predicates.filter((p) => p.column === column);
  const partitionPredicates = onColumn(schema.partitionColumn);
  const tableChoice: AccessChoice = {
    partitions: uniqueValues(dataset.partitionValues).filter((value) =>
      partitionPredicates.every((p) => matchesPredicate(p, value)),
    ),
    consumed: partitionPredicates,
  };
  if (partitionPredicates.length > 0) return tableChoice;
  let best: AccessChoice | undefined;
  (schema.indexes ?? []).forEach((index, i) => {
    const indexPredicates = onColumn(index.partitionColumn);
    const finite = indexPredicates.map(pointsOf).find((points) => points !== undefined);
    if (!finite) return;
    const partitions = uniqueValues(finite).filter((value) => indexPredicates.every((p) => matchesPredicate(p, value)));
    if (!best || partitions.length < best.partitions.length) {
      best = { index: (i + 1) as 1 | 2, partitions, consumed: indexPredicates };
    }
  });
  // Querying an index is worth it only when it reads fewer partitions than the table would.
  return best && best.partitions.length <= tableChoice.partitions.length ? best : tableChoice;
}

interface SortCondition {
  readonly condition?: { expression: string; values: Record<string, string> };
  readonly contradiction?: boolean;
}

/**
 * Folds the single-range predicates on the sort column into one key condition (their
 * intersection), or uses a prefix predicate. Folded predicates are marked consumed; the rest
 * stay for the FilterExpression. The encoding makes these conditions exact:
 * `v ≥ a ⇔ sk ≥ enc(a)`, `v ≤ b ⇔ sk ≤ enc(b)#~`, `v = x ⇔ begins_with(sk, enc(x)#)`.
 */
function sortKeyCondition(
  schema: DatasetSchema,
  sortColumn: string,
  predicates: readonly Predicate[],
  consumed: Set<Predicate>,
): SortCondition {
  const type = findColumn(schema, sortColumn)!.type;
  const onSort = predicates.filter((p) => p.column === sortColumn);
  const single = onSort.filter((p) => p.kind === 'ranges' && p.ranges.length === 1);
  if (single.length > 0) {
    let range: ValueRange | undefined = {};
    for (const predicate of single) {
      range = intersectRanges(range, (predicate as Extract<Predicate, { kind: 'ranges' }>).ranges[0]!);
      if (!range) return { contradiction: true };
      consumed.add(predicate);
    }
    const encode = (value: CellValue) => encodeKeyValue(type, value);
    if (isPoint(range)) {
      return { condition: { expression: 'begins_with(#ks, :ks)', values: { ':ks': `${encode(range.lower!)}#` } } };
    }
    const upper = range.upper !== undefined ? `${encode(range.upper)}#${SORT_KEY_UPPER_SENTINEL}` : undefined;
    if (range.lower !== undefined && upper !== undefined) {
      return {
        condition: { expression: '#ks BETWEEN :kl AND :ku', values: { ':kl': encode(range.lower), ':ku': upper } },
      };
    }
    if (range.lower !== undefined) {
      return { condition: { expression: '#ks >= :kl', values: { ':kl': encode(range.lower) } } };
    }
    if (upper !== undefined) return { condition: { expression: '#ks <= :ku', values: { ':ku': upper } } };
    return {};
  }
  const prefix = onSort.find((p) => p.kind === 'prefix');
  if (prefix && prefix.kind === 'prefix') {
    consumed.add(prefix);
    return {
      condition: { expression: 'begins_with(#ks, :ks)', values: { ':ks': encodeKeyValue('string', prefix.prefix) } },
    };
  }
  return {};
}

/** The FilterExpression of one predicate, or undefined when it is too large to push down. */
function filterExpression(predicate: Predicate, names: NameRegistry, values: ValueRegistry): string | undefined {
  const name = names.name(predicate.column);
  if (predicate.kind === 'prefix') return `begins_with(${name}, ${values.value(predicate.prefix)})`;
  const points = predicate.ranges.filter(isPoint);
  const intervals = predicate.ranges.filter((range) => !isPoint(range));
  // DynamoDB caps IN at 100 operands and an expression at 4 KB; larger sets are checked in memory.
  if (points.length > 100 || intervals.length > 20) return undefined;
  const parts: string[] = [];
  if (points.length === 1) parts.push(`${name} = ${values.value(points[0]!.lower!)}`);
  if (points.length > 1) parts.push(`${name} IN (${points.map((p) => values.value(p.lower!)).join(', ')})`);
  for (const range of intervals) {
    if (range.lower !== undefined && range.upper !== undefined) {
      parts.push(`${name} BETWEEN ${values.value(range.lower)} AND ${values.value(range.upper)}`);
    } else if (range.lower !== undefined) {
      parts.push(`${name} >= ${values.value(range.lower)}`);
    } else if (range.upper !== undefined) {
      parts.push(`${name} <= ${values.value(range.upper)}`);
    } else {
      parts.push(`attribute_exists(${name})`);
    }
  }
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** Placeholders for attribute names; only schema column names ever reach it. */
class NameRegistry {
  private readonly names = new Map<string, string>();
  name(column: string): string {
    let placeholder = this.names.get(column);
    if (!placeholder) {
      placeholder = `#c${this.names.size}`;
      this.names.set(column, placeholder);
    }
    return placeholder;
  }
  all(): Record<string, string> {
    return Object.fromEntries([...this.names.entries()].map(([column, placeholder]) => [placeholder, column]));
  }
}

/** Placeholders for values; every literal, parameter and RLS value goes through here. */
class ValueRegistry {
  private readonly values: Record<string, CellValue> = {};
  private count = 0;
  value(value: CellValue): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }
  all(): Record<string, CellValue> {
    return { ...this.values };
  }
}

/** JSON with object keys sorted, so equal inputs hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Which source would serve a widget, and for raw rows why: what a dashboard author sees on save. */
export interface WidgetSourceReport {
  readonly source: string;
  readonly reason?: string;
}

/**
 * Explains the planner's choice for a widget without reading anything, for a typical viewer:
 * one with a restricted (not `*`) grant on every column the dataset's RLS rules name, and the
 * dashboard's default parameter values. Rollups are considered whether or not their build for
 * the active version is finished. A viewer whose grants are `*` may be served by more rollups.
 */
export function explainWidgetSource(input: {
  readonly schema: DatasetSchema;
  readonly rollups: readonly StoredRollup[];
  readonly rlsColumns: readonly string[];
  readonly widgetQuery: WidgetQuery;
  readonly parameters: EffectiveParameters;
}): WidgetSourceReport {
  const query = validateWidgetQuery(input.widgetQuery, input.schema);
  const output = outputSpec(input.schema, query);
  if (output.kind === 'rows') return { source: 'raw', reason: 'plain rows are read from the rows themselves' };
  const predicates: Predicate[] = [...new Set(input.rlsColumns)].map((column) => ({
    column,
    kind: 'ranges',
    ranges: [{}],
    rls: true,
  }));
  for (const filter of query.filters ?? []) {
    const predicate = filterPredicate(input.schema, filter, input.parameters);
    if (predicate) predicates.push(predicate);
  }
  if (input.rollups.length === 0) return { source: 'raw', reason: 'the dataset declares no rollup' };
  const gaps: string[] = [];
  const covering = [...input.rollups]
    .sort((a, b) => (a.build?.itemCount ?? Number.MAX_SAFE_INTEGER) - (b.build?.itemCount ?? Number.MAX_SAFE_INTEGER))
    .find((rollup) => {
      const gap = rollupCoverageGap(rollup, { predicates, groupBy: output.groupBy, metrics: output.metrics });
      if (gap) gaps.push(`${rollup.id}: ${gap}`);
      return gap === undefined;
    });
  return covering
    ? { source: `rollup:${covering.id}` }
    : { source: 'raw', reason: `no rollup covers this widget (${gaps.join('; ')})` };
}
