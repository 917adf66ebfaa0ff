import { DatasetSchemaInvalid } from '#errors';
import type { BuiltRollup } from '#control/datasets';
import type {
  RollupDefinition,
  RollupGranularity,
  RollupMeasure,
  RollupMeasureOp,
  StoredRollup,
} from '#control/records';
import {
  ExactSum,
  ROLLUP_ROWS,
  rollupCountAttribute,
  rollupMaxAttribute,
  rollupMinAttribute,
  rollupSumAttribute,
} from './aggregate.ts';
import { matchesPredicate, type Predicate } from './predicates.ts';
import type { Row } from './row-keys.ts';
import { type DatasetSchema, findColumn } from './schema.ts';
import { type CellValue, compareValues, encodeKeyValue } from './values.ts';
import type { GroupBy, Metric } from './widget.ts';

export type {
  RollupBuild,
  RollupDefinition,
  RollupGranularity,
  RollupMeasure,
  RollupMeasureOp,
  StoredRollup,
} from '#control/records';

/**
 * Rollups: pre-aggregations of a dataset version, stored in the data table beside its rows and
 * under the same version prefix, so the import's version switch (and the readers' seqlock)
 * covers them too. One item per (dimension values, time bucket):
 *
 *   pk = <tenant>#<dataset>#<version>#R#<rollupId>#g<generation>#<enc(first dimension) or !>
 *   sk = <time bucket or !>#<enc(other dimensions, ! for none)>…
 *
 * with the dimension values and the bucket start as plain attributes (under the column names)
 * and the measures as `ROWS`, `N_<c>` (non-null count), `S_<c>` (exact-sum partials),
 * `MIN_<c>`, `MAX_<c>`. Every key begins with the tenant id, so the tenant role's
 * `dynamodb:LeadingKeys` condition covers rollup items exactly as it covers rows.
 */

export const ROLLUP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_ROLLUPS = 10;
export const MAX_ROLLUP_DIMENSIONS = 5;
export const MAX_ROLLUP_MEASURES = 20;
export const ROLLUP_GRANULARITIES: readonly RollupGranularity[] = ['day', 'hour'];
export const ROLLUP_MEASURE_OPS: readonly RollupMeasureOp[] = ['count', 'sum', 'min', 'max'];
/** Rollup partitions of one version live in the dataset item (like row partitions), so they are capped. */
export const MAX_ROLLUP_PARTITIONS = 1_000;
/** Marks a missing value inside a key; no encoded value contains `!` (every encoded character is ≥ `$`). */
const MISSING = '!';

/** Validates an untrusted rollup declaration against the schema. Throws `DatasetSchemaInvalid` naming the field. */
export function validateRollupDefinition(input: unknown, schema: DatasetSchema): RollupDefinition {
  if (!isRecord(input)) throw new DatasetSchemaInvalid('a rollup must be an object');
  const { id, dimensions, time, measures } = input;
  if (typeof id !== 'string' || !ROLLUP_ID_PATTERN.test(id)) {
    throw new DatasetSchemaInvalid('a rollup id must match ^[A-Za-z0-9_-]{1,64}$', { field: 'id' });
  }
  if (!Array.isArray(dimensions) || dimensions.length > MAX_ROLLUP_DIMENSIONS) {
    throw new DatasetSchemaInvalid(`dimensions must be a list of at most ${MAX_ROLLUP_DIMENSIONS} columns`, {
      field: 'dimensions',
    });
  }
  const seen = new Set<string>();
  for (const dimension of dimensions) {
    if (typeof dimension !== 'string' || !findColumn(schema, dimension)) {
      throw new DatasetSchemaInvalid('a rollup dimension names an unknown column', {
        field: 'dimensions',
        column: String(dimension).slice(0, 80),
      });
    }
    if (seen.has(dimension)) throw new DatasetSchemaInvalid('a dimension is listed twice', { column: dimension });
    seen.add(dimension);
  }
  let validTime: RollupDefinition['time'];
  if (time !== undefined) {
    if (!isRecord(time) || typeof time.column !== 'string' || findColumn(schema, time.column)?.type !== 'date') {
      throw new DatasetSchemaInvalid('the rollup time column must name a date column', { field: 'time.column' });
    }
    if (seen.has(time.column)) {
      throw new DatasetSchemaInvalid('the time column cannot also be a dimension', { column: time.column });
    }
    if (!ROLLUP_GRANULARITIES.includes(time.granularity as RollupGranularity)) {
      throw new DatasetSchemaInvalid('the rollup granularity must be day or hour', { field: 'time.granularity' });
    }
    validTime = { column: time.column, granularity: time.granularity as RollupGranularity };
  }
  if (!Array.isArray(measures) || measures.length === 0 || measures.length > MAX_ROLLUP_MEASURES) {
    throw new DatasetSchemaInvalid(`measures must be a list of 1 to ${MAX_ROLLUP_MEASURES}`, { field: 'measures' });
  }
  const validMeasures = measures.map((raw): RollupMeasure => {
    if (!isRecord(raw) || !ROLLUP_MEASURE_OPS.includes(raw.op as RollupMeasureOp)) {
      throw new DatasetSchemaInvalid('a rollup measure op must be count, sum, min or max', { field: 'measures' });
    }
    const op = raw.op as RollupMeasureOp;
    if (raw.column === undefined) {
      if (op !== 'count') throw new DatasetSchemaInvalid(`${op} needs a column`, { field: 'measures', op });
      return { op };
    }
    const column = typeof raw.column === 'string' ? findColumn(schema, raw.column) : undefined;
    if (!column) {
      throw new DatasetSchemaInvalid('a rollup measure names an unknown column', {
        field: 'measures',
        column: String(raw.column).slice(0, 80),
      });
    }
    if (op === 'sum' && column.type !== 'number') {
      throw new DatasetSchemaInvalid('sum needs a number column', { column: column.name, op });
    }
    if ((op === 'min' || op === 'max') && column.type !== 'number' && column.type !== 'date') {
      throw new DatasetSchemaInvalid(`${op} needs a number or date column`, { column: column.name, op });
    }
    return { op, column: column.name };
  });
  return {
    id,
    dimensions: [...(dimensions as string[])],
    ...(validTime ? { time: validTime } : {}),
    measures: validMeasures,
  };
}

/** The rollups of a dataset that are built for `version` (the only ones a reader of that version may use). */
export function readyRollups(rollups: readonly StoredRollup[], version: string | null): StoredRollup[] {
  return version === null ? [] : rollups.filter((rollup) => rollup.build?.version === version);
}

/** `R#<id>#g<generation>#`: the key part every partition of one rollup declaration begins with. */
export function rollupKeyspace(rollup: Pick<StoredRollup, 'id' | 'generation'>): string {
  return `R#${rollup.id}#g${rollup.generation}#`;
}

/** A rollup partition key after the version prefix. */
export function rollupPartitionSuffix(schema: DatasetSchema, rollup: StoredRollup, value: CellValue | null): string {
  const first = rollup.dimensions[0];
  return rollupKeyspace(rollup) + (first === undefined || value === null ? MISSING : encodeKey(schema, first, value));
}

/** The start of the time bucket of an ISO date-time, as a normalised ISO date-time. */
export function timeBucket(iso: string, granularity: RollupGranularity): string {
  return granularity === 'day' ? `${iso.slice(0, 10)}T00:00:00.000Z` : `${iso.slice(0, 13)}:00:00.000Z`;
}

/**
 * Computes the items of every rollup from a version's validated rows, in memory: one item per
 * group. Rollups whose partitions would exceed the cap are skipped (readers then use raw rows).
 */
export function buildRollupItems(
  schema: DatasetSchema,
  rollups: readonly StoredRollup[],
  rows: readonly Row[],
  prefix: string,
  version: string,
): { items: Record<string, unknown>[]; built: BuiltRollup[]; skipped: string[] } {
  const items: Record<string, unknown>[] = [];
  const built: BuiltRollup[] = [];
  const skipped: string[] = [];
  let partitionBudget = MAX_ROLLUP_PARTITIONS;
  for (const rollup of rollups) {
    const groups = new Map<string, RollupGroup>();
    const partitions = new Map<string, CellValue | null>();
    for (const row of rows) {
      const first = rollup.dimensions[0];
      const firstValue = first === undefined ? null : (row[first] ?? null);
      const suffix = rollupPartitionSuffix(schema, rollup, firstValue);
      partitions.set(suffix, firstValue);
      const bucket = rollup.time ? bucketOf(row[rollup.time.column], rollup.time.granularity) : null;
      const sk = [
        bucket ?? MISSING,
        ...rollup.dimensions.slice(1).map((d) => (row[d] === undefined ? MISSING : encodeKey(schema, d, row[d]!))),
      ].join('#');
      const key = `${suffix}\u0000${sk}`;
      let group = groups.get(key);
      if (!group) {
        group = newGroup(rollup, prefix + suffix, sk, row, bucket);
        groups.set(key, group);
      }
      addToGroup(rollup, group, row);
    }
    if (partitions.size > partitionBudget) {
      skipped.push(rollup.id);
      continue;
    }
    partitionBudget -= partitions.size;
    for (const group of groups.values()) items.push(groupItem(rollup, group));
    const ordered = [...partitions.entries()].sort(([, a], [, b]) =>
      a === null ? -1 : b === null ? 1 : compareValues(a, b),
    );
    built.push({
      id: rollup.id,
      generation: rollup.generation,
      build: {
        version,
        partitionValues: ordered.map(([, value]) => value),
        partitionKeys: ordered.map(([suffix]) => suffix),
        itemCount: groups.size,
      },
    });
  }
  return { items, built, skipped };
}

interface RollupGroup {
  readonly item: Record<string, unknown>;
  rows: number;
  readonly counts: Map<string, number>;
  readonly sums: Map<string, ExactSum>;
  readonly mins: Map<string, CellValue>;
  readonly maxes: Map<string, CellValue>;
}

function newGroup(rollup: StoredRollup, pk: string, sk: string, row: Row, bucket: string | null): RollupGroup {
  const item: Record<string, unknown> = { pk, sk };
  for (const dimension of rollup.dimensions) if (row[dimension] !== undefined) item[dimension] = row[dimension];
  if (rollup.time && bucket !== null) item[rollup.time.column] = bucket;
  return { item, rows: 0, counts: new Map(), sums: new Map(), mins: new Map(), maxes: new Map() };
}

function addToGroup(rollup: StoredRollup, group: RollupGroup, row: Row): void {
  group.rows++;
  for (const column of measuredColumns(rollup)) {
    const value = row[column];
    if (value === undefined) continue;
    group.counts.set(column, (group.counts.get(column) ?? 0) + 1);
    if (typeof value === 'number') {
      const sum = group.sums.get(column) ?? new ExactSum();
      group.sums.set(column, sum);
      sum.add(value);
    }
    const min = group.mins.get(column);
    if (min === undefined || compareValues(value, min) < 0) group.mins.set(column, value);
    const max = group.maxes.get(column);
    if (max === undefined || compareValues(value, max) > 0) group.maxes.set(column, value);
  }
}

function groupItem(rollup: StoredRollup, group: RollupGroup): Record<string, unknown> {
  const item: Record<string, unknown> = { ...group.item, [ROLLUP_ROWS]: group.rows };
  for (const column of measuredColumns(rollup)) item[rollupCountAttribute(column)] = group.counts.get(column) ?? 0;
  for (const measure of rollup.measures) {
    if (!measure.column) continue;
    const column = measure.column;
    if (measure.op === 'sum') item[rollupSumAttribute(column)] = group.sums.get(column)?.parts() ?? [];
    if (measure.op === 'min' && group.mins.has(column)) item[rollupMinAttribute(column)] = group.mins.get(column);
    if (measure.op === 'max' && group.maxes.has(column)) item[rollupMaxAttribute(column)] = group.maxes.get(column);
  }
  return item;
}

function measuredColumns(rollup: RollupDefinition): string[] {
  return [...new Set(rollup.measures.flatMap((m) => (m.column ? [m.column] : [])))];
}

function bucketOf(value: CellValue | undefined, granularity: RollupGranularity): string | null {
  return typeof value === 'string' ? timeBucket(value, granularity) : null;
}

function encodeKey(schema: DatasetSchema, column: string, value: CellValue): string {
  return encodeKeyValue(findColumn(schema, column)!.type, value);
}

// ---------------------------------------------------------------------------------------------
// Coverage: may this rollup answer this aggregate for this viewer?

/** Why a rollup cannot serve a query, or undefined when it can. */
export function rollupCoverageGap(
  rollup: RollupDefinition,
  query: {
    readonly predicates: readonly Predicate[];
    readonly groupBy: readonly GroupBy[];
    readonly metrics: readonly Metric[];
  },
): string | undefined {
  const dimensions = new Set(rollup.dimensions);
  const time = rollup.time;
  for (const predicate of query.predicates) {
    if (dimensions.has(predicate.column)) continue;
    const what = predicate.rls ? `the viewer's RLS column ${predicate.column}` : `filter column ${predicate.column}`;
    if (time && predicate.column === time.column) {
      if (predicate.kind === 'ranges' && predicate.ranges.every((r) => alignedRange(r, time.granularity))) continue;
      return `${what} is filtered inside a ${time.granularity} (bounds must fall on whole ${time.granularity}s)`;
    }
    return `${what} is not a dimension of the rollup`;
  }
  for (const group of query.groupBy) {
    if (dimensions.has(group.column)) continue;
    if (time && group.column === time.column) {
      if (group.bucket !== undefined) continue;
      return `group by ${group.column} needs a day, week or month bucket`;
    }
    return `group by ${group.column} is not a dimension of the rollup`;
  }
  for (const metric of query.metrics) {
    if (!metric.column) continue;
    const ops = new Set(rollup.measures.filter((m) => m.column === metric.column).map((m) => m.op));
    const needed: RollupMeasureOp[] =
      metric.op === 'avg' ? ['sum'] : metric.op === 'count' ? [] : [metric.op as RollupMeasureOp];
    if (ops.size === 0 || needed.some((op) => !ops.has(op))) {
      return `metric ${metric.op}(${metric.column}) is not a measure of the rollup`;
    }
  }
  return undefined;
}

/** True when a range on the time column covers whole buckets only. */
function alignedRange(range: { lower?: CellValue; upper?: CellValue }, granularity: RollupGranularity): boolean {
  const start = granularity === 'day' ? 'T00:00:00.000Z' : ':00:00.000Z';
  const end = granularity === 'day' ? 'T23:59:59.999Z' : ':59:59.999Z';
  if (range.lower !== undefined && !(typeof range.lower === 'string' && range.lower.endsWith(start))) return false;
  if (range.upper !== undefined && !(typeof range.upper === 'string' && range.upper.endsWith(end))) return false;
  return true;
}

/** The stored partitions of a rollup build that every predicate on its first dimension admits. */
export function rollupPartitions(
  rollup: StoredRollup,
  predicates: readonly Predicate[],
): { value: CellValue | null; key: string }[] {
  const build = rollup.build!;
  const first = rollup.dimensions[0];
  const onFirst = first === undefined ? [] : predicates.filter((p) => p.column === first);
  return build.partitionValues
    .map((value, i) => ({ value, key: build.partitionKeys[i]! }))
    .filter(({ value }) => onFirst.every((p) => matchesPredicate(p, value)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
