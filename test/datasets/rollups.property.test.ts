import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDataset, putRlsMapping, putRlsRules } from '#admin/datasets';
import { queryDataset } from '#datasets/dashboard-query';
import { importDataset } from '#datasets/import';
import type { RlsMapping, RlsRule } from '#datasets/rls';
import { type RollupDefinition, validateRollupDefinition } from '#datasets/rollups';
import { validateDatasetSchema } from '#datasets/schema';
import type { GroupBy, Metric, OrderBy, WidgetFilter, WidgetQuery } from '#datasets/widget';
import type { Caller } from '#shared/identity';
import type { EffectiveParameters } from '#token/param-types';
import { createTestTables, type TestTables, uniqueId } from './fixtures.ts';

/**
 * For random rows, rollup declarations, RLS rules and mappings, identities, filters, parameters
 * and aggregate widgets, the answer the planner gives (from a rollup whenever one covers the
 * query) is byte-identical to the answer from raw rows, and equal to a naive in-memory
 * reference: same groups, same order, same limit, same numbers (sums of fractions included),
 * for empty results, single-day ranges, partial weeks and months at both ends, and viewers with
 * no grant.
 */

const TENANT = 'tenant-rollup-prop';
type Value = string | number | boolean;
type Row = Record<string, Value>;

const P = ['EU', 'US', 'APAC'];
const B = ['red', 'green', 'blue'];
// Mid-week and mid-month instants, the first and last millisecond of days, and a leap day.
const TIMES = [
  '2024-01-01T00:00:00.000Z',
  '2024-01-03T13:45:00.000Z',
  '2024-01-07T23:59:59.999Z',
  '2024-01-08T08:00:00.000Z',
  '2024-01-31T12:00:00.000Z',
  '2024-02-01T00:30:00.000Z',
  '2024-02-29T10:00:00.000Z',
  '2024-03-04T00:00:00.000Z',
  '2024-03-05T23:00:00.000Z',
];
const DAYS = [
  '2024-01-01',
  '2024-01-03',
  '2024-01-05',
  '2024-01-08',
  '2024-01-31',
  '2024-02-01',
  '2024-02-29',
  '2024-03-04',
];
// Fractions whose float sums depend on the order of addition.
const FRACTIONS = [0.1, 0.2, 0.3, 1e-3, 2.675, 1e10, -1e10];

/** Candidate declarations: the planner must pick a covering one or fall back to rows. */
const ROLLUPS: RollupDefinition[] = [
  {
    id: 'by-p-day',
    dimensions: ['p'],
    time: { column: 't', granularity: 'day' },
    measures: [
      { op: 'count' },
      { op: 'sum', column: 'a' },
      { op: 'min', column: 'a' },
      { op: 'max', column: 'a' },
      { op: 'sum', column: 'f' },
    ],
  },
  {
    id: 'by-b-p-hour',
    dimensions: ['b', 'p'],
    time: { column: 't', granularity: 'hour' },
    measures: [
      { op: 'sum', column: 'a' },
      { op: 'count', column: 'b' },
      { op: 'max', column: 't' },
    ],
  },
  {
    id: 'by-p-c',
    dimensions: ['p', 'c'],
    measures: [{ op: 'count' }, { op: 'sum', column: 'a' }, { op: 'min', column: 'a' }],
  },
  // No RLS column: only viewers whose grant is `*` may be served by these.
  {
    id: 'by-day',
    dimensions: [],
    time: { column: 't', granularity: 'day' },
    measures: [{ op: 'count' }, { op: 'sum', column: 'a' }],
  },
  {
    id: 'by-b',
    dimensions: ['b'],
    time: { column: 't', granularity: 'day' },
    measures: [{ op: 'count' }, { op: 'sum', column: 'f' }],
  },
];

interface Scenario {
  rows: Row[];
  rollups: RollupDefinition[];
  rules: RlsRule[];
  mapping: RlsMapping;
  caller: Caller;
  lockedParams: EffectiveParameters;
  range: { from: string; to: string } | undefined;
  query: WidgetQuery;
}

const rowArb = fc.record(
  {
    p: fc.constantFrom(...P),
    t: fc.constantFrom(...TIMES),
    a: fc.integer({ min: -50, max: 50 }),
    f: fc.constantFrom(...FRACTIONS),
    b: fc.constantFrom(...B),
    c: fc.boolean(),
  },
  { requiredKeys: ['p', 't'] },
);

const dayOrInstant = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DAYS) },
  { weight: 1, arbitrary: fc.constantFrom(...TIMES) },
);

const filterArb: fc.Arbitrary<WidgetFilter> = fc.oneof(
  fc.tuple(dayOrInstant, dayOrInstant).map(([x, y]): WidgetFilter => ({ column: 't', op: 'between', values: [x, y] })),
  dayOrInstant.map((value): WidgetFilter => ({ column: 't', op: 'gte', value })),
  dayOrInstant.map((value): WidgetFilter => ({ column: 't', op: 'lte', value })),
  fc.constantFrom(...DAYS).map((value): WidgetFilter => ({ column: 't', op: 'eq', value })),
  fc.constantFrom(...P).map((value): WidgetFilter => ({ column: 'p', op: 'eq', value })),
  fc
    .uniqueArray(fc.constantFrom(...P), { minLength: 1, maxLength: 2 })
    .map((values): WidgetFilter => ({ column: 'p', op: 'in', values })),
  fc.constantFrom(...B).map((value): WidgetFilter => ({ column: 'b', op: 'eq', value })),
  fc.boolean().map((value): WidgetFilter => ({ column: 'c', op: 'eq', value })),
  fc.integer({ min: -50, max: 50 }).map((value): WidgetFilter => ({ column: 'a', op: 'gte', value })),
);

const METRICS: Metric[] = [
  { op: 'count' },
  { op: 'sum', column: 'a' },
  { op: 'avg', column: 'a' },
  { op: 'min', column: 'a' },
  { op: 'max', column: 'a' },
  { op: 'count', column: 'b', as: 'count_b' },
  { op: 'sum', column: 'f' },
  { op: 'max', column: 't' },
];
const GROUPS: GroupBy[][] = [
  [],
  [{ column: 'p' }],
  [{ column: 'b' }],
  [{ column: 'c' }],
  [{ column: 't', bucket: 'day' }],
  [{ column: 't', bucket: 'week' }],
  [{ column: 't', bucket: 'month' }],
  [{ column: 't', bucket: 'month' }, { column: 'p' }],
  [{ column: 't' }],
];

const queryArb: fc.Arbitrary<WidgetQuery> = fc
  .record({
    filters: fc.array(filterArb, { maxLength: 1 }),
    useRange: fc.boolean(),
    groupBy: fc.constantFrom(...GROUPS),
    // Mostly metric sets some rollup measures (so the planner has a choice), sometimes any set.
    metrics: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom<Metric[]>(
          [METRICS[0]!, METRICS[1]!, METRICS[3]!, METRICS[4]!],
          [METRICS[1]!, METRICS[2]!, METRICS[5]!, METRICS[7]!],
          [METRICS[0]!, METRICS[6]!],
          [METRICS[1]!, METRICS[2]!],
        ),
      },
      { weight: 1, arbitrary: fc.subarray(METRICS, { minLength: 1, maxLength: 3 }) },
    ),
    order: fc.boolean(),
    desc: fc.boolean(),
    limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  })
  .map(({ filters, useRange, groupBy, metrics, order, desc, limit }): WidgetQuery => {
    const keys = [...groupBy.map((g) => g.column), ...metrics.map(metricName)];
    const orderBy: OrderBy[] = order ? [{ key: keys[keys.length - 1]!, direction: desc ? 'desc' : 'asc' }] : [];
    return {
      filters: [...filters, ...(useRange ? [{ column: 't', op: 'between' as const, value: { param: 'range' } }] : [])],
      ...(groupBy.length ? { groupBy } : {}),
      metrics,
      ...(orderBy.length ? { orderBy } : {}),
      ...(limit !== undefined ? { limit } : {}),
    };
  });

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  rows: fc.oneof(
    { weight: 1, arbitrary: fc.constant<Row[]>([]) },
    { weight: 9, arbitrary: fc.array(rowArb, { minLength: 12, maxLength: 40 }) },
  ),
  rollups: fc.subarray(ROLLUPS, { minLength: 1 }),
  rules: fc.oneof(
    { weight: 1, arbitrary: fc.constant<RlsRule[]>([]) },
    {
      weight: 9,
      arbitrary: fc.array(
        fc.constantFrom<RlsRule>(
          { column: 'p', source: { kind: 'identity', claim: 'custom:region' } },
          { column: 'p', source: { kind: 'lockedParam', param: 'region' } },
          { column: 'p', source: { kind: 'mapping', mappingId: 'MAP' } },
          { column: 'b', source: { kind: 'mapping', mappingId: 'MAP' } },
        ),
        { minLength: 1, maxLength: 2 },
      ),
    },
  ),
  mapping: fc
    .array(
      fc.record({
        principalType: fc.constantFrom<'user' | 'group'>('user', 'group'),
        principal: fc.constantFrom('u1', 'g1', 'g1'),
        values: fc.oneof(
          { weight: 2, arbitrary: fc.constant<'*'>('*') },
          { weight: 3, arbitrary: fc.uniqueArray(fc.constantFrom(...P, ...B), { minLength: 1, maxLength: 3 }) },
        ),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((entries) => ({ id: 'MAP', entries })),
  caller: fc.record({
    sub: fc.constantFrom('u1', 'u2', 'u3'),
    tenantId: fc.constant(TENANT),
    groups: fc.oneof({ weight: 4, arbitrary: fc.constant(['g1']) }, { weight: 1, arbitrary: fc.constant([]) }),
    attributes: fc.oneof(
      { weight: 1, arbitrary: fc.constant({}) },
      { weight: 5, arbitrary: fc.constantFrom(...P).map((region) => ({ region })) },
    ),
  }),
  lockedParams: fc.oneof(
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 4, arbitrary: fc.constantFrom(...P).map((region) => ({ region })) },
  ),
  range: fc.option(
    fc.tuple(dayOrInstant, dayOrInstant).map(([x, y]) => (x <= y ? { from: x, to: y } : { from: y, to: x })),
    { nil: undefined },
  ),
  query: queryArb,
});

// ---------------------------------------------------------------------------------------------
// The reference: row at a time, no keys, no rollups.

function metricName(metric: Metric): string {
  return metric.as ?? (metric.column ? `${metric.op}_${metric.column}` : metric.op);
}

function grantOf(s: Scenario, column: string): Set<string> | '*' | undefined {
  const rules = s.rules.filter((rule) => rule.column === column);
  if (rules.length === 0) return undefined;
  const values = new Set<string>();
  for (const rule of rules) {
    const source = rule.source;
    if (source.kind === 'identity') {
      if (s.caller.attributes.region) values.add(s.caller.attributes.region);
    } else if (source.kind === 'lockedParam') {
      if (typeof s.lockedParams.region === 'string') values.add(s.lockedParams.region);
    } else {
      for (const entry of s.mapping.entries) {
        const applies =
          entry.principalType === 'user' ? entry.principal === s.caller.sub : s.caller.groups.includes(entry.principal);
        if (!applies) continue;
        if (entry.values === '*') return '*';
        for (const value of entry.values) values.add(value);
      }
    }
  }
  return values;
}

function visibleByRls(s: Scenario, row: Row): boolean {
  if (s.rules.length === 0) return false;
  const columns = [...new Set(s.rules.map((rule) => rule.column))];
  const grants = columns.map((column) => [column, grantOf(s, column)!] as const);
  if (grants.some(([, grant]) => grant !== '*' && grant.size === 0)) return false;
  return grants.every(([column, grant]) => grant === '*' || grant.has(String(row[column])));
}

const dayStart = (raw: string) => (raw.length === 10 ? `${raw}T00:00:00.000Z` : raw);
const dayEnd = (raw: string) => (raw.length === 10 ? `${raw}T23:59:59.999Z` : raw);

function matches(filter: WidgetFilter, row: Row, s: Scenario): boolean {
  const v = row[filter.column];
  if (v === undefined) return false;
  if (filter.value && typeof filter.value === 'object') {
    if (!s.range) return true; // an optional parameter without a value drops its filter
    return (v as string) >= dayStart(s.range.from) && (v as string) <= dayEnd(s.range.to);
  }
  const x = filter.value as Value;
  if (filter.column === 't') {
    const t = v as string;
    switch (filter.op) {
      case 'eq':
        return t >= dayStart(x as string) && t <= dayEnd(x as string);
      case 'gte':
        return t >= dayStart(x as string);
      case 'lte':
        return t <= dayEnd(x as string);
      default:
        return t >= dayStart(filter.values![0] as string) && t <= dayEnd(filter.values![1] as string);
    }
  }
  switch (filter.op) {
    case 'eq':
      return v === x;
    case 'in':
      return (filter.values ?? []).includes(v);
    case 'gte':
      return (v as number) >= (x as number);
    default:
      throw new Error(`unexpected filter ${filter.op}`);
  }
}

function bucket(iso: string, kind: 'day' | 'week' | 'month' | undefined): string {
  if (kind === undefined) return iso;
  const day = iso.slice(0, 10);
  if (kind === 'day') return day;
  if (kind === 'month') return `${day.slice(0, 7)}-01`;
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

/**
 * The exact sum of doubles, rounded once to the nearest double: every value here is a multiple of
 * 2^-80, so scaled by 2^80 they are integers and BigInt adds them exactly.
 */
function exactSum(values: number[]): number {
  const scale = 2 ** 80;
  return Number(values.reduce((sum, v) => sum + BigInt(v * scale), 0n)) / scale;
}

function compareCells(x: unknown, y: unknown): number {
  const xNull = x === null || x === undefined;
  const yNull = y === null || y === undefined;
  if (xNull && yNull) return 0;
  if (xNull) return -1;
  if (yNull) return 1;
  if (typeof x === 'boolean') return x === y ? 0 : x ? 1 : -1;
  return (x as number | string) < (y as number | string) ? -1 : (x as number | string) > (y as number | string) ? 1 : 0;
}

function reference(s: Scenario): Record<string, unknown>[] {
  const query = s.query;
  const rows = s.rows.filter((row) => visibleByRls(s, row) && (query.filters ?? []).every((f) => matches(f, row, s)));
  const groupBy = query.groupBy ?? [];
  const metrics = query.metrics ?? [];
  const groups = new Map<string, { keys: unknown[]; rows: Row[] }>();
  for (const row of rows) {
    const keys = groupBy.map((g) =>
      row[g.column] === undefined ? null : g.column === 't' ? bucket(row.t as string, g.bucket) : row[g.column],
    );
    const id = JSON.stringify(keys);
    const group = groups.get(id) ?? { keys, rows: [] };
    group.rows.push(row);
    groups.set(id, group);
  }
  if (groupBy.length === 0 && groups.size === 0) groups.set('[]', { keys: [], rows: [] });
  const out = [...groups.values()].map(({ keys, rows: groupRows }) => {
    const result: Record<string, unknown> = {};
    groupBy.forEach((g, i) => {
      result[g.column] = keys[i];
    });
    for (const metric of metrics) {
      const values = metric.column ? groupRows.map((r) => r[metric.column!]).filter((v) => v !== undefined) : groupRows;
      const nums = values as number[];
      const name = metricName(metric);
      if (metric.op === 'count') result[name] = values.length;
      else if (values.length === 0) result[name] = null;
      else if (metric.op === 'sum') result[name] = exactSum(nums);
      else if (metric.op === 'avg') result[name] = exactSum(nums) / nums.length;
      else if (metric.op === 'min') result[name] = [...values].sort(compareCells)[0];
      else result[name] = [...values].sort(compareCells)[values.length - 1];
    }
    return result;
  });
  const keys = [
    ...(query.orderBy ?? []).map((o) => ({ key: o.key, sign: o.direction === 'desc' ? -1 : 1 })),
    ...[...groupBy.map((g) => g.column), ...metrics.map(metricName)].map((key) => ({ key, sign: 1 })),
  ];
  out.sort((a, b) => {
    for (const { key, sign } of keys) {
      const order = compareCells(a[key], b[key]);
      if (order !== 0) return order * sign;
    }
    return 0;
  });
  return query.limit !== undefined ? out.slice(0, query.limit) : out;
}

// ---------------------------------------------------------------------------------------------

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables('rollup-prop');
});

describe('rollups ≡ raw rows ≡ reference', () => {
  it('answers every aggregate exactly as raw rows and the reference do, from a rollup whenever one covers it', async () => {
    const sources = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        // Prepare: a dataset with the declared rollups, built by the import, and its RLS
        const datasetId = uniqueId('rp');
        const mappingId = `m-${datasetId}`;
        const schema = validateDatasetSchema({
          columns: [
            { name: 'p', type: 'string' },
            { name: 't', type: 'date' },
            { name: 'a', type: 'number' },
            { name: 'f', type: 'number' },
            { name: 'b', type: 'string' },
            { name: 'c', type: 'boolean' },
          ],
          partitionColumn: 'p',
          sortColumn: 't',
        });
        await createDataset(tables, { tenantId: TENANT, datasetId, name: 'Rollup property', schema });
        for (const rollup of s.rollups) {
          await tables.datasets.putRollup(TENANT, datasetId, validateRollupDefinition(rollup, schema));
        }
        if (s.rows.length > 0) {
          await importDataset({ tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(s.rows) }, tables);
        }
        await putRlsRules(
          tables,
          TENANT,
          datasetId,
          s.rules.map((rule) =>
            rule.source.kind === 'mapping' ? { column: rule.column, source: { kind: 'mapping', mappingId } } : rule,
          ),
        );
        await putRlsMapping(tables, TENANT, { id: mappingId, entries: s.mapping.entries });
        const parameters: EffectiveParameters = { ...s.lockedParams, ...(s.range ? { range: s.range } : {}) };
        const input = { caller: s.caller, datasetId, widgetQuery: s.query, lockedParams: s.lockedParams, parameters };

        // Act
        const planned = await queryDataset(input, tables);
        const raw = await queryDataset(input, { ...tables, useRollups: false });

        // Assess
        sources.set(planned.source.split(':')[0]!, (sources.get(planned.source.split(':')[0]!) ?? 0) + 1);
        expect(raw.source).toBe('raw');
        expect(JSON.stringify(planned.rows)).toBe(JSON.stringify(raw.rows));
        expect(planned.columns).toEqual(raw.columns);
        expect(JSON.stringify(planned.rows)).toBe(JSON.stringify(reference(s)));
      }),
      { numRuns: 80 },
    );
    // The property must exercise both paths, not just fall back.
    expect(sources.get('rollup') ?? 0).toBeGreaterThan(5);
    expect(sources.get('raw') ?? 0).toBeGreaterThan(5);
    // 80 imports and 160 queries on DynamoDB Local: give a busy 2-core machine room.
  }, 300_000);
});
