import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryDataset } from '#datasets/dashboard-query';
import { importDataset } from '#datasets/import';
import type { RlsMapping, RlsRule } from '#datasets/rls';
import { validateDatasetSchema } from '#datasets/schema';
import type { WidgetFilter, WidgetQuery } from '#datasets/widget';
import type { Caller } from '#shared/identity';
import type { EffectiveParameters } from '#token/param-types';
import { createTestTables, type TestTables, uniqueId } from './fixtures.ts';
import { createDataset } from '#admin/datasets';
import { putRlsRules, putRlsMapping } from '#admin/datasets';

/**
 * For random schemas, rows, RLS rules, identities and queries, the engine (compiler + DynamoDB
 * Local + executor) must return exactly what a naive in-memory evaluation returns, and no
 * returned row may violate the viewer's RLS.
 */

const TENANT = 'tenant-prop';
type SortType = 'number' | 'string' | 'date';
type Value = string | number | boolean;
type Row = Record<string, Value>;

const P = ['EU', 'US', 'APAC', 'x OR a=a'];
const B = ['red', 'green', 'blue', 're'];
const DATES = [
  '2024-01-01T00:00:00.000Z',
  '2024-01-15T12:00:00.000Z',
  '2024-02-01T08:30:00.000Z',
  '2024-03-31T23:59:59.999Z',
];
const sortValues = (type: SortType): fc.Arbitrary<Value> =>
  type === 'number'
    ? fc.integer({ min: -5, max: 5 })
    : type === 'date'
      ? fc.constantFrom(...DATES)
      : fc.constantFrom('a', 'ab', 'b', 'a b', 'ba');

interface Scenario {
  sortType: SortType;
  withIndex: boolean;
  rows: Row[];
  rules: RlsRule[];
  mapping: RlsMapping;
  caller: Caller;
  lockedParams: EffectiveParameters;
  query: WidgetQuery;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({ sortType: fc.constantFrom<SortType>('number', 'string', 'date'), withIndex: fc.boolean() })
  .chain(({ sortType, withIndex }) => {
    const row = fc.record(
      {
        p: fc.constantFrom(...P),
        s: sortValues(sortType),
        a: fc.integer({ min: -100, max: 100 }),
        b: fc.constantFrom(...B),
        c: fc.boolean(),
      },
      { requiredKeys: ['p', 's'] },
    );
    const rule = fc.oneof(
      fc.constant<RlsRule>({ column: 'p', source: { kind: 'identity', claim: 'custom:region' } }),
      fc.constant<RlsRule>({ column: 'p', source: { kind: 'identity', claim: 'cognito:groups' } }),
      fc.constant<RlsRule>({ column: 'p', source: { kind: 'lockedParam', param: 'region' } }),
      fc.constant<RlsRule>({ column: 'b', source: { kind: 'mapping', mappingId: 'MAP' } }),
      fc.constant<RlsRule>({ column: 'p', source: { kind: 'mapping', mappingId: 'MAP' } }),
    );
    const entry = fc.record({
      principalType: fc.constantFrom<'user' | 'group'>('user', 'group'),
      principal: fc.constantFrom('u1', 'u2', 'g1', 'g2'),
      values: fc.oneof(
        fc.constant<'*'>('*'),
        fc.uniqueArray(fc.constantFrom(...P, ...B), { minLength: 1, maxLength: 4 }),
      ),
    });
    const sortFilter: fc.Arbitrary<WidgetFilter> = fc.oneof(
      sortValues(sortType).map((value): WidgetFilter => ({ column: 's', op: 'gte', value })),
      sortValues(sortType).map((value): WidgetFilter => ({ column: 's', op: 'lte', value })),
      sortValues(sortType).map((value): WidgetFilter => ({ column: 's', op: 'eq', value })),
      fc
        .tuple(sortValues(sortType), sortValues(sortType))
        .map(([x, y]): WidgetFilter => ({ column: 's', op: 'between', values: [x, y] as [Value, Value] })),
      ...(sortType === 'string'
        ? [fc.constantFrom('a', 'b', 'a ').map((value): WidgetFilter => ({ column: 's', op: 'begins_with', value }))]
        : []),
    );
    const otherFilter: fc.Arbitrary<WidgetFilter> = fc.oneof(
      fc.constantFrom(...P).map((value): WidgetFilter => ({ column: 'p', op: 'eq', value })),
      fc
        .uniqueArray(fc.constantFrom(...P), { minLength: 1, maxLength: 3 })
        .map((values): WidgetFilter => ({ column: 'p', op: 'in', values })),
      fc.constantFrom(...B).map((value): WidgetFilter => ({ column: 'b', op: 'eq', value })),
      fc.constantFrom('r', 're', 'g', 'x OR').map((value): WidgetFilter => ({ column: 'b', op: 'begins_with', value })),
      fc.integer({ min: -100, max: 100 }).map((value): WidgetFilter => ({ column: 'a', op: 'gte', value })),
      fc.boolean().map((value): WidgetFilter => ({ column: 'c', op: 'eq', value })),
    );
    // Key-condition encoding is the subtle part, so sort-column filters are drawn as often as all others.
    const filter = fc.oneof(sortFilter, otherFilter);
    const query: fc.Arbitrary<WidgetQuery> = fc
      .record({
        filters: fc.array(filter, { maxLength: 2 }),
        shape: fc.constantFrom('rows', 'kpi', 'groups'),
        groupColumn: fc.constantFrom('p', 'b', 'c'),
      })
      .map(({ filters, shape, groupColumn }): WidgetQuery => {
        if (shape === 'rows') return { filters, columns: ['p', 's', 'a', 'b', 'c'] };
        const metrics = [
          { op: 'count' as const },
          { op: 'sum' as const, column: 'a' },
          { op: 'min' as const, column: 'a' },
          { op: 'max' as const, column: 'a' },
          { op: 'count' as const, column: 'b', as: 'count_b' },
        ];
        return shape === 'kpi' ? { filters, metrics } : { filters, groupBy: [{ column: groupColumn }], metrics };
      });
    return fc.record({
      sortType: fc.constant(sortType),
      withIndex: fc.constant(withIndex),
      rows: fc.array(row, { minLength: 5, maxLength: 50 }),
      // Mostly viewers who see something (an empty result proves little), sometimes none at all.
      rules: fc.oneof(
        { weight: 1, arbitrary: fc.constant<RlsRule[]>([]) },
        { weight: 9, arbitrary: fc.array(rule, { minLength: 1, maxLength: 2 }) },
      ),
      mapping: fc.array(entry, { minLength: 1, maxLength: 4 }).map((entries) => ({ id: 'MAP', entries })),
      caller: fc.record({
        sub: fc.constantFrom('u1', 'u2', 'u3'),
        tenantId: fc.constant(TENANT),
        groups: fc.uniqueArray(fc.constantFrom('g1', 'g2', 'EU', 'US'), { minLength: 1, maxLength: 3 }),
        attributes: fc.oneof(
          { weight: 1, arbitrary: fc.constant({}) },
          { weight: 5, arbitrary: fc.constantFrom(...P, '*').map((region) => ({ region })) },
        ),
      }),
      lockedParams: fc.oneof(
        { weight: 1, arbitrary: fc.constant({}) },
        { weight: 5, arbitrary: fc.constantFrom(...P).map((region) => ({ region })) },
      ),
      query,
    });
  });

// ---------------------------------------------------------------------------------------------
// The reference: straightforward, row-at-a-time, no keys, no pushdown.

function allowedByRls(s: Scenario, mapping: RlsMapping, row: Row): boolean {
  if (s.rules.length === 0) return false;
  const byColumn = new Map<string, Set<string> | '*'>();
  for (const rule of s.rules) {
    const current = byColumn.get(rule.column) ?? new Set<string>();
    if (current === '*') continue;
    let grant: string[] | '*' = [];
    const source = rule.source;
    if (source.kind === 'identity') {
      grant =
        source.claim === 'cognito:groups'
          ? [...s.caller.groups]
          : s.caller.attributes.region
            ? [s.caller.attributes.region]
            : [];
    } else if (source.kind === 'lockedParam') {
      grant = typeof s.lockedParams.region === 'string' ? [s.lockedParams.region] : [];
    } else {
      for (const entry of mapping.entries) {
        const applies =
          entry.principalType === 'user' ? entry.principal === s.caller.sub : s.caller.groups.includes(entry.principal);
        if (!applies) continue;
        if (entry.values === '*') grant = '*';
        else if (grant !== '*') grant = [...grant, ...entry.values];
      }
    }
    if (grant === '*') byColumn.set(rule.column, '*');
    else byColumn.set(rule.column, new Set([...current, ...grant]));
  }
  return [...byColumn.entries()].every(
    ([column, allowed]) => allowed === '*' || (row[column] !== undefined && allowed.has(String(row[column]))),
  );
}

function compare(a: Value, b: Value): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function matchesFilter(filter: WidgetFilter, row: Row): boolean {
  const v = row[filter.column];
  if (v === undefined) return false;
  const x = filter.value as Value;
  switch (filter.op) {
    case 'eq':
      return v === x;
    case 'in':
      return (filter.values ?? []).includes(v);
    case 'gte':
      return compare(v, x) >= 0;
    case 'lte':
      return compare(v, x) <= 0;
    case 'between':
      return compare(v, filter.values![0]!) >= 0 && compare(v, filter.values![1]!) <= 0;
    case 'begins_with':
      return typeof v === 'string' && v.startsWith(x as string);
  }
}

function reference(s: Scenario): Record<string, unknown>[] {
  const visible = s.rows.filter(
    (row) => allowedByRls(s, s.mapping, row) && (s.query.filters ?? []).every((f) => matchesFilter(f, row)),
  );
  if (!s.query.metrics)
    return visible.map((row) => ({ p: row.p, s: row.s, a: row.a ?? null, b: row.b ?? null, c: row.c ?? null }));
  const groupColumn = s.query.groupBy?.[0]?.column;
  const groups = new Map<string, Row[]>();
  for (const row of visible) {
    const key = groupColumn ? JSON.stringify(row[groupColumn] ?? null) : '';
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  if (!groupColumn && groups.size === 0) groups.set('', []);
  return [...groups.entries()].map(([key, rows]) => {
    const amounts = rows.map((r) => r.a).filter((a): a is number => typeof a === 'number');
    return {
      ...(groupColumn ? { [groupColumn]: JSON.parse(key) } : {}),
      count: rows.length,
      sum_a: amounts.length ? amounts.reduce((x, y) => x + y, 0) : null,
      min_a: amounts.length ? Math.min(...amounts) : null,
      max_a: amounts.length ? Math.max(...amounts) : null,
      count_b: rows.filter((r) => r.b !== undefined).length,
    };
  });
}

const canonical = (rows: readonly Record<string, unknown>[]) =>
  rows.map((row) => JSON.stringify(row, Object.keys(row).sort())).sort();

// ---------------------------------------------------------------------------------------------

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables('property');
});

describe('engine ≡ reference', () => {
  it('returns exactly the reference result and never a row outside the RLS', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Prepare: a fresh dataset per run, its rows, its rules and its mapping
        const datasetId = uniqueId('prop');
        const mappingId = `m-${datasetId}`;
        const schema = validateDatasetSchema({
          columns: [
            { name: 'p', type: 'string' },
            { name: 's', type: s.sortType },
            { name: 'a', type: 'number' },
            { name: 'b', type: 'string' },
            { name: 'c', type: 'boolean' },
          ],
          partitionColumn: 'p',
          sortColumn: 's',
          ...(s.withIndex ? { indexes: [{ partitionColumn: 'b', sortColumn: 's' }] } : {}),
        });
        await createDataset(tables, { tenantId: TENANT, datasetId, name: 'Property', schema });
        await importDataset({ tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(s.rows) }, tables);
        const rules = s.rules.map(
          (rule): RlsRule =>
            rule.source.kind === 'mapping' ? { column: rule.column, source: { kind: 'mapping', mappingId } } : rule,
        );
        await putRlsRules(tables, TENANT, datasetId, rules);
        await putRlsMapping(tables, TENANT, { id: mappingId, entries: s.mapping.entries });
        // Act
        const result = await queryDataset(
          {
            caller: s.caller,
            datasetId,
            widgetQuery: s.query,
            lockedParams: s.lockedParams,
            parameters: s.lockedParams,
          },
          tables,
        );
        // Assess
        expect(canonical(result.rows)).toEqual(canonical(reference(s)));
        if (!s.query.metrics) {
          for (const row of result.rows) expect(allowedByRls(s, s.mapping, row as Row)).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
