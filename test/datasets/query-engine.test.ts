import { PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DashboardRepository } from '#control/dashboards';
import { MemoryQueryCache } from '#datasets/cache';
import { compileDatasetQuery, datasetSnapshot } from '#datasets/compiler';
import { queryDataset, runDashboardQuery } from '#datasets/dashboard-query';
import { executeDatasetQuery } from '#datasets/executor';
import { importDataset } from '#datasets/import';
import type { EffectiveRlsContext } from '#datasets/rls';
import type { WidgetQuery } from '#datasets/widget';
import type { EffectiveParameters } from '#token/param-types';
import { QueryInvalid, QueryTooLarge } from '#errors';
import { createTestTables, type TestTables, viewer } from './fixtures.ts';
import { saveDashboard } from '#admin/dashboards';
import { createDataset } from '#admin/datasets';
import { putRlsRules, putRlsMapping } from '#admin/datasets';

const SCHEMA = {
  columns: [
    { name: 'region', type: 'string' },
    { name: 'day', type: 'date' },
    { name: 'product', type: 'string' },
    { name: 'amount', type: 'number' },
    { name: 'units', type: 'number' },
    { name: 'paid', type: 'boolean' },
    { name: 'owner', type: 'string' },
  ],
  partitionColumn: 'region',
  sortColumn: 'day',
  indexes: [{ partitionColumn: 'product', sortColumn: 'day' }],
};

// Ten rows; the APAC row appears twice on purpose (identical rows stay distinct rows), and one
// region value is a crafted expression that must only ever match literally.
const CSV = `region,day,product,amount,units,paid,owner
EU,2024-01-01,apple,10,1,true,u-alice
EU,2024-01-02,banana,20,2,false,u-bob
EU,2024-01-08,apple,30,3,true,u-alice
EU,2024-02-01,cherry,40,4,true,u-bob
US,2024-01-01,apple,5,1,true,u-alice
US,2024-01-15,banana,15,3,false,u-carol
US,2024-02-10,apple,25,5,true,u-carol
APAC,2024-01-03,apple,7,1,false,u-dave
APAC,2024-01-03,apple,7,1,false,u-dave
"x OR size(a)=size(a)",2024-01-05T10:00:00Z,apple,1,1,true,u-eve
`;

const TENANT = 'tenant-a';
const DATASET = 'sales';
const ALLOW_ALL: EffectiveRlsContext = { denyAll: false, columns: {} };

let tables: TestTables;

async function run(
  widgetQuery: WidgetQuery,
  options: { rls?: EffectiveRlsContext; parameters?: EffectiveParameters; rowCap?: number; datasetId?: string } = {},
) {
  const dataset = await tables.datasets.require(TENANT, options.datasetId ?? DATASET);
  const plan = compileDatasetQuery({
    schema: dataset.schema,
    dataset: datasetSnapshot(dataset),
    widgetQuery,
    rls: options.rls ?? ALLOW_ALL,
    parameters: options.parameters ?? {},
  });
  const result = await executeDatasetQuery(plan, {
    table: tables.data,
    ...(options.rowCap ? { rowCap: options.rowCap } : {}),
  });
  return { plan, result };
}

const sorted = (values: unknown[]) => [...values].sort();

beforeAll(async () => {
  tables = await createTestTables('engine');
  await createDataset(tables, { tenantId: TENANT, datasetId: DATASET, name: 'Sales', schema: SCHEMA });
  await importDataset({ tenantId: TENANT, datasetId: DATASET, format: 'csv', content: CSV }, tables);
  // Tenant B has a dataset with the same id, the same partition values and a secret marker.
  await createDataset(tables, { tenantId: 'tenant-b', datasetId: DATASET, name: 'Sales', schema: SCHEMA });
  await importDataset(
    {
      tenantId: 'tenant-b',
      datasetId: DATASET,
      format: 'csv',
      content:
        'region,day,product,amount,units,paid,owner\nEU,2024-01-01,b-secret,999,9,true,u-alice\nUS,2024-01-01,b-secret,999,9,true,u-viewer\n',
    },
    tables,
  );
});

describe('filters', () => {
  it('eq on the partition column queries exactly one partition and reads only its rows', async () => {
    // Act
    const { result, plan } = await run({ filters: [{ column: 'region', op: 'eq', value: 'EU' }] });
    // Assess
    expect(plan.queries).toHaveLength(1);
    expect(plan.queries[0]!.KeyConditionExpression).toBe('#kp = :kp');
    expect(result.rows.map((r) => r.amount)).toEqual([10, 20, 30, 40]);
    expect(result.stats).toMatchObject({ itemsRead: 4, rowsMatched: 4, partitions: 1 });
  });

  it('in on the partition column queries one partition per value', async () => {
    const { result } = await run({ filters: [{ column: 'region', op: 'in', values: ['EU', 'US', 'nowhere'] }] });
    expect(result.rows).toHaveLength(7);
    expect(result.stats.partitions).toBe(2);
    expect(result.stats.itemsRead).toBe(7);
  });

  it('between on the sort column becomes a key condition (nothing extra read)', async () => {
    const { result, plan } = await run({
      filters: [
        { column: 'region', op: 'eq', value: 'EU' },
        { column: 'day', op: 'between', values: ['2024-01-01', '2024-01-08'] },
      ],
    });
    expect(plan.queries[0]!.KeyConditionExpression).toBe('#kp = :kp AND #ks BETWEEN :kl AND :ku');
    expect(plan.queries[0]!.FilterExpression).toBeUndefined();
    expect(result.rows.map((r) => r.product)).toEqual(['apple', 'banana', 'apple']);
    expect(result.stats.itemsRead).toBe(3);
  });

  it('gte and lte on the sort column are inclusive (a date-only upper bound covers the whole day)', async () => {
    const gte = await run({ filters: [{ column: 'day', op: 'gte', value: '2024-02-01' }] });
    expect(sorted(gte.result.rows.map((r) => r.product))).toEqual(['apple', 'cherry']);
    expect(gte.result.stats.itemsRead).toBe(2);
    const lte = await run({ filters: [{ column: 'day', op: 'lte', value: '2024-01-05' }] });
    // 01-05T10:00 is included because a date-only upper bound means the end of that day.
    expect(lte.result.rows).toHaveLength(6);
    expect(lte.result.stats.itemsRead).toBe(6);
  });

  it('range bounds equal to a stored sort value include that row (exact key-condition bounds)', async () => {
    const at = '2024-01-05T10:00:00.000Z';
    const lte = await run({ filters: [{ column: 'day', op: 'lte', value: at }] });
    expect(lte.result.rows).toHaveLength(6);
    const gte = await run({ filters: [{ column: 'day', op: 'gte', value: at }] });
    expect(gte.result.rows.map((r) => r.day)).toContain(at);
    const between = await run({ filters: [{ column: 'day', op: 'between', values: [at, at] }] });
    expect(between.result.rows.map((r) => r.amount)).toEqual([1]);
  });

  it('eq with a date-only value matches the whole UTC day', async () => {
    const { result } = await run({ filters: [{ column: 'day', op: 'eq', value: '2024-01-05' }] });
    expect(result.rows.map((r) => r.amount)).toEqual([1]);
  });

  it('begins_with on a non-key column becomes a FilterExpression', async () => {
    const { result, plan } = await run({ filters: [{ column: 'product', op: 'begins_with', value: 'ban' }] });
    expect(plan.queries[0]!.FilterExpression).toBe('begins_with(#c0, :v0)');
    expect(sorted(result.rows.map((r) => r.region))).toEqual(['EU', 'US']);
  });

  it('eq on numbers and booleans, in on numbers', async () => {
    expect((await run({ filters: [{ column: 'amount', op: 'eq', value: 7 }] })).result.rows).toHaveLength(2);
    expect((await run({ filters: [{ column: 'paid', op: 'eq', value: false }] })).result.rows).toHaveLength(4);
    expect((await run({ filters: [{ column: 'units', op: 'in', values: [3, 5] }] })).result.rows).toHaveLength(3);
  });

  it('uses the secondary index when its partition column is constrained and the table partition is not', async () => {
    const { result, plan } = await run({
      filters: [
        { column: 'product', op: 'eq', value: 'banana' },
        { column: 'day', op: 'gte', value: '2024-01-10' },
      ],
    });
    expect(plan.access).toBe('gsi1');
    expect(result.rows.map((r) => r.region)).toEqual(['US']);
    expect(result.stats.itemsRead).toBe(1);
  });

  it('drops an index entry whose item lives under another tenant, even if its index key was forged', async () => {
    // Prepare: an item of another tenant whose gsi1 key claims to be tenant-a's "banana" partition.
    const { plan: probe } = await run({ filters: [{ column: 'product', op: 'eq', value: 'banana' }] });
    const forgedIndexKey = probe.queries[0]!.ExpressionAttributeValues[':kp'] as string;
    await tables.data.client.send(
      new PutCommand({
        TableName: tables.data.tableName,
        Item: {
          pk: 'tenant-b#sales#v1#EU',
          sk: 'forged',
          gsi1pk: forgedIndexKey,
          gsi1sk: '2024-01-20T00:00:00.000Z#forged',
          region: 'EU',
          day: '2024-01-20T00:00:00.000Z',
          product: 'banana',
          amount: 999,
        },
      }),
    );
    // Act
    const { result } = await run({ filters: [{ column: 'product', op: 'eq', value: 'banana' }] });
    // Assess
    expect(result.rows.map((row) => row.amount)).not.toContain(999);
    expect(result.rows).toHaveLength(2);
  });

  it('contradictory filters return nothing without reading', async () => {
    const { result } = await run({
      filters: [
        { column: 'day', op: 'gte', value: '2024-02-01' },
        { column: 'day', op: 'lte', value: '2024-01-01' },
      ],
    });
    expect(result.rows).toEqual([]);
    expect(result.stats.queries).toBe(0);
  });
});

describe('metrics, group by, order, limit', () => {
  it('computes count, sum, avg, min and max per group', async () => {
    const { result } = await run({
      groupBy: [{ column: 'region' }],
      metrics: [
        { op: 'count' },
        { op: 'sum', column: 'amount' },
        { op: 'avg', column: 'amount' },
        { op: 'min', column: 'day' },
        { op: 'max', column: 'amount', as: 'top' },
      ],
      orderBy: [{ key: 'sum_amount', direction: 'desc' }],
    });
    expect(result.columns.map((c) => c.name)).toEqual([
      'region',
      'count',
      'sum_amount',
      'avg_amount',
      'min_day',
      'top',
    ]);
    expect(result.rows).toEqual([
      { region: 'EU', count: 4, sum_amount: 100, avg_amount: 25, min_day: '2024-01-01T00:00:00.000Z', top: 40 },
      { region: 'US', count: 3, sum_amount: 45, avg_amount: 15, min_day: '2024-01-01T00:00:00.000Z', top: 25 },
      { region: 'APAC', count: 2, sum_amount: 14, avg_amount: 7, min_day: '2024-01-03T00:00:00.000Z', top: 7 },
      {
        region: 'x OR size(a)=size(a)',
        count: 1,
        sum_amount: 1,
        avg_amount: 1,
        min_day: '2024-01-05T10:00:00.000Z',
        top: 1,
      },
    ]);
  });

  it('a KPI over no rows is one row with count 0 and null metrics', async () => {
    const { result } = await run({
      filters: [{ column: 'region', op: 'eq', value: 'nowhere' }],
      metrics: [{ op: 'count' }, { op: 'sum', column: 'amount' }],
    });
    expect(result.rows).toEqual([{ count: 0, sum_amount: null }]);
  });

  it('buckets dates by day, ISO week and month', async () => {
    const month = await run({ groupBy: [{ column: 'day', bucket: 'month' }], metrics: [{ op: 'count' }] });
    expect(month.result.rows).toEqual([
      { day: '2024-01-01', count: 8 },
      { day: '2024-02-01', count: 2 },
    ]);
    const week = await run({ groupBy: [{ column: 'day', bucket: 'week' }], metrics: [{ op: 'count' }] });
    expect(week.result.rows).toEqual([
      { day: '2024-01-01', count: 6 },
      { day: '2024-01-08', count: 1 },
      { day: '2024-01-15', count: 1 },
      { day: '2024-01-29', count: 1 },
      { day: '2024-02-05', count: 1 },
    ]);
    const day = await run({
      filters: [{ column: 'region', op: 'eq', value: 'APAC' }],
      groupBy: [{ column: 'day', bucket: 'day' }],
      metrics: [{ op: 'sum', column: 'units' }],
    });
    expect(day.result.rows).toEqual([{ day: '2024-01-03', sum_units: 2 }]);
  });

  it('orders and limits groups and plain rows', async () => {
    const groups = await run({
      groupBy: [{ column: 'region' }],
      metrics: [{ op: 'sum', column: 'amount', as: 'total' }],
      orderBy: [{ key: 'total', direction: 'desc' }],
      limit: 2,
    });
    expect(groups.result.rows).toEqual([
      { region: 'EU', total: 100 },
      { region: 'US', total: 45 },
    ]);
    expect(groups.result.truncated).toBe(false);
    const rows = await run({
      columns: ['product', 'amount'],
      orderBy: [{ key: 'amount', direction: 'asc' }],
      limit: 3,
    });
    expect(rows.result.rows).toEqual([
      { product: 'apple', amount: 1 },
      { product: 'apple', amount: 5 },
      { product: 'apple', amount: 7 },
    ]);
  });
});

describe('parameters', () => {
  it('maps stringList → in, dateRange → between, and drops a filter whose parameter has no value', async () => {
    const query: WidgetQuery = {
      filters: [
        { column: 'region', op: 'in', value: { param: 'regions' } },
        { column: 'day', op: 'between', value: { param: 'period' } },
        { column: 'product', op: 'eq', value: { param: 'product' } },
      ],
      metrics: [{ op: 'count' }],
    };
    const { result } = await run(query, {
      parameters: { regions: ['EU', 'US'], period: { from: '2024-01-01', to: '2024-01-31' } },
    });
    expect(result.rows).toEqual([{ count: 5 }]);
  });

  it('refuses a parameter value that does not fit the operator', async () => {
    await expect(
      run(
        { filters: [{ column: 'day', op: 'between', value: { param: 'period' } }] },
        { parameters: { period: 'EU' } },
      ),
    ).rejects.toMatchObject({ code: 'QUERY_INVALID', details: { param: 'period', op: 'between' } });
  });
});

describe('injection', () => {
  it.each(['region OR size(a)=size(a)', '#x', ':v', 'pk', 'Region', ''])(
    'refuses the column name %j',
    async (column) => {
      await expect(run({ filters: [{ column, op: 'eq', value: 'EU' }] })).rejects.toBeInstanceOf(QueryInvalid);
      await expect(run({ groupBy: [{ column }], metrics: [{ op: 'count' }] })).rejects.toBeInstanceOf(QueryInvalid);
    },
  );

  it('matches an expression-looking value only literally', async () => {
    const crafted = await run({ filters: [{ column: 'region', op: 'eq', value: 'x OR size(a)=size(a)' }] });
    expect(crafted.result.rows.map((r) => r.amount)).toEqual([1]);
    const inFilter = await run({ filters: [{ column: 'product', op: 'eq', value: 'apple OR size(a)=size(a)' }] });
    expect(inFilter.result.rows).toEqual([]);
    const prefix = await run({ filters: [{ column: 'product', op: 'begins_with', value: ') OR (1=1' }] });
    expect(prefix.result.rows).toEqual([]);
  });
});

describe('row cap', () => {
  it('flags truncation of plain rows and refuses an aggregate over the cap', async () => {
    const rows = await run({}, { rowCap: 3 });
    expect(rows.result.rows).toHaveLength(3);
    expect(rows.result.truncated).toBe(true);
    await expect(run({ metrics: [{ op: 'count' }] }, { rowCap: 3 })).rejects.toBeInstanceOf(QueryTooLarge);
  });
});

describe('pagination past 1 MB pages', () => {
  it('follows LastEvaluatedKey until every row of a > 1 MB partition is read', async () => {
    // Prepare: 70 rows × ~20 KB in one partition ≈ 1.4 MB, more than one Query page.
    await createDataset(tables, {
      tenantId: TENANT,
      datasetId: 'padded',
      name: 'Padded',
      schema: {
        columns: [
          { name: 'k', type: 'string' },
          { name: 'n', type: 'number' },
          { name: 'pad', type: 'string' },
        ],
        partitionColumn: 'k',
        sortColumn: 'n',
      },
    });
    const pad = 'p'.repeat(20_000);
    const json = JSON.stringify(Array.from({ length: 70 }, (_, n) => ({ k: 'one', n, pad })));
    await importDataset({ tenantId: TENANT, datasetId: 'padded', format: 'json', content: json }, tables);
    // Act
    const { result } = await run({ metrics: [{ op: 'count' }, { op: 'sum', column: 'n' }] }, { datasetId: 'padded' });
    // Assess
    expect(result.rows).toEqual([{ count: 70, sum_n: (69 * 70) / 2 }]);
    expect(result.stats.queries).toBeGreaterThanOrEqual(2);
    expect(result.stats.itemsRead).toBe(70);
  });
});

describe('RLS through the query paths', () => {
  const widget = (id: string, query: WidgetQuery) => ({
    id,
    type: 'table' as const,
    title: id,
    datasetId: DATASET,
    query,
  });

  async function asViewer(
    rules: unknown,
    caller = viewer(),
    params: { locked?: EffectiveParameters; all?: EffectiveParameters } = {},
  ) {
    await putRlsRules(tables, TENANT, DATASET, rules);
    return queryDataset(
      {
        caller,
        datasetId: DATASET,
        widgetQuery: { columns: ['region', 'owner', 'amount'] },
        lockedParams: params.locked ?? {},
        parameters: params.all ?? params.locked ?? {},
      },
      tables,
    );
  }

  beforeAll(async () => {
    await putRlsMapping(tables, TENANT, {
      id: 'regions',
      entries: [
        { principalType: 'user', principal: 'u-alice', values: ['EU', 'US'] },
        { principalType: 'group', principal: 'analysts', values: '*' },
        { principalType: 'group', principal: 'apac-team', values: ['APAC'] },
      ],
    });
  });

  it('restricts to a custom attribute of the identity and queries only the allowed partition', async () => {
    const result = await asViewer(
      [{ column: 'region', source: { kind: 'identity', claim: 'custom:region' } }],
      viewer({ attributes: { region: 'EU' } }),
    );
    expect(new Set(result.rows.map((r) => r.region))).toEqual(new Set(['EU']));
    expect(result.stats).toMatchObject({ partitions: 1, itemsRead: 4, rowsMatched: 4 });
  });

  it('restricts to the groups and to the sub of the identity', async () => {
    const groups = await asViewer(
      [{ column: 'region', source: { kind: 'identity', claim: 'cognito:groups' } }],
      viewer({ groups: ['US', 'APAC'] }),
    );
    expect(sorted([...new Set(groups.rows.map((r) => r.region))])).toEqual(['APAC', 'US']);
    const sub = await asViewer(
      [{ column: 'owner', source: { kind: 'identity', claim: 'sub' } }],
      viewer({ sub: 'u-carol' }),
    );
    expect(sub.rows.map((r) => r.amount)).toEqual([15, 25]);
  });

  it('restricts to a locked parameter and ignores an editable parameter of the same name', async () => {
    const rules = [{ column: 'region', source: { kind: 'lockedParam', param: 'region' } }];
    const locked = await asViewer(rules, viewer(), { locked: { region: 'US' } });
    expect(new Set(locked.rows.map((r) => r.region))).toEqual(new Set(['US']));
    const editable = await asViewer(rules, viewer(), { locked: {}, all: { region: 'US' } });
    expect(editable.rows).toEqual([]);
  });

  it('restricts through a mapping: user → values, group → *', async () => {
    const rules = [{ column: 'region', source: { kind: 'mapping', mappingId: 'regions' } }];
    const alice = await asViewer(rules, viewer({ sub: 'u-alice' }));
    expect(sorted([...new Set(alice.rows.map((r) => r.region))])).toEqual(['EU', 'US']);
    const analyst = await asViewer(rules, viewer({ groups: ['analysts'] }));
    expect(analyst.rows).toHaveLength(10);
  });

  it('ANDs rules on different columns and ORs values of one column', async () => {
    const result = await asViewer(
      [
        { column: 'region', source: { kind: 'mapping', mappingId: 'regions' } },
        { column: 'region', source: { kind: 'identity', claim: 'custom:region' } },
        { column: 'owner', source: { kind: 'identity', claim: 'sub' } },
      ],
      viewer({ sub: 'u-dave', groups: ['apac-team'], attributes: { region: 'EU' } }),
    );
    // region ∈ {APAC (mapping), EU (attribute)} AND owner = u-dave → the two APAC rows.
    expect(result.rows).toEqual([
      { region: 'APAC', owner: 'u-dave', amount: 7 },
      { region: 'APAC', owner: 'u-dave', amount: 7 },
    ]);
  });

  it('denies by default: no rules, no grant, or no mapping entry → no rows and nothing read', async () => {
    await putRlsRules(tables, TENANT, DATASET, []);
    const none = await queryDataset(
      {
        caller: viewer(),
        datasetId: DATASET,
        widgetQuery: { metrics: [{ op: 'count' }] },
        lockedParams: {},
        parameters: {},
      },
      tables,
    );
    expect(none.rows).toEqual([{ count: 0 }]);
    expect(none.stats.queries).toBe(0);
    const noAttribute = await asViewer(
      [{ column: 'region', source: { kind: 'identity', claim: 'custom:region' } }],
      viewer(),
    );
    expect(noAttribute.rows).toEqual([]);
    const stranger = await asViewer(
      [{ column: 'region', source: { kind: 'mapping', mappingId: 'regions' } }],
      viewer({ sub: 'u-zed' }),
    );
    expect(stranger.rows).toEqual([]);
    expect(stranger.stats.itemsRead).toBe(0);
    const missingMapping = await asViewer(
      [{ column: 'region', source: { kind: 'mapping', mappingId: 'ghost' } }],
      viewer(),
    );
    expect(missingMapping.rows).toEqual([]);
  });

  it('a literal "*" from the identity or a parameter is a value, not a wildcard', async () => {
    const result = await asViewer(
      [{ column: 'region', source: { kind: 'identity', claim: 'custom:region' } }],
      viewer({ attributes: { region: '*' } }),
    );
    expect(result.rows).toEqual([]);
  });

  it('every widget of a dashboard is filtered, and cached results never cross RLS contexts', async () => {
    // Prepare
    await putRlsRules(tables, TENANT, DATASET, [
      { column: 'region', source: { kind: 'identity', claim: 'custom:region' } },
    ]);
    const dashboards = new DashboardRepository(tables.control);
    const dashboard = await saveDashboard(
      { dashboards, datasets: tables.datasets },
      {
        tenantId: TENANT,
        dashboardId: 'overview',
        title: 'Overview',
        parameters: [{ name: 'regions', type: 'stringList' }],
        widgets: [
          widget('rows', { columns: ['region'] }),
          { ...widget('kpi', { metrics: [{ op: 'sum', column: 'amount' }] }), type: 'number' },
          { ...widget('bars', { groupBy: [{ column: 'region' }], metrics: [{ op: 'count' }] }), type: 'bar' },
          widget('filtered', {
            filters: [{ column: 'region', op: 'in', value: { param: 'regions' } }],
            metrics: [{ op: 'count' }],
          }),
        ],
      },
    );
    const cache = new MemoryQueryCache();
    const deps = { ...tables, cache };
    const asRegion = (region: string) =>
      runDashboardQuery(
        {
          dashboard,
          caller: viewer({ attributes: { region } }),
          lockedParams: {},
          parameters: { regions: ['EU', 'US', 'APAC'] },
        },
        deps,
      );
    // Act
    const eu = await asRegion('EU');
    const us = await asRegion('US');
    const euAgain = await asRegion('EU');
    // Assess
    expect(new Set(eu.widgets.rows!.rows.map((r) => r.region))).toEqual(new Set(['EU']));
    expect(eu.widgets.kpi!.rows).toEqual([{ sum_amount: 100 }]);
    expect(eu.widgets.bars!.rows).toEqual([{ region: 'EU', count: 4 }]);
    expect(eu.widgets.filtered!.rows).toEqual([{ count: 4 }]);
    expect(us.widgets.kpi!.rows).toEqual([{ sum_amount: 45 }]);
    expect(euAgain.widgets).toEqual(eu.widgets);
    expect(cache.size).toBe(8);
  });

  it('a viewer of tenant A never reads tenant B rows, whatever the parameters', async () => {
    await putRlsRules(tables, TENANT, DATASET, [
      { column: 'region', source: { kind: 'mapping', mappingId: 'regions' } },
    ]);
    const queryText: WidgetQuery = {
      filters: [
        { column: 'region', op: 'in', value: { param: 'regions' } },
        { column: 'product', op: 'begins_with', value: { param: 'prefix' } },
      ],
      columns: ['product', 'amount'],
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom('EU', 'US', 'tenant-b#sales#v1#EU', 'tenant-b', '*', '#', ''), fc.string()), {
          maxLength: 4,
        }),
        fc.oneof(fc.constantFrom('b', 'b-secret', 'tenant-b#'), fc.string({ minLength: 1 })),
        async (regions, prefix) => {
          const result = await queryDataset(
            {
              caller: viewer({ groups: ['analysts'] }),
              datasetId: DATASET,
              widgetQuery: queryText,
              lockedParams: {},
              parameters: { regions, prefix },
            },
            tables,
          ).catch((error: unknown) => {
            // Refusing a crafted parameter is fine; reading the wrong tenant is not.
            expect(error).toBeInstanceOf(QueryInvalid);
            return { rows: [] };
          });
          expect(result.rows.every((row) => row.product !== 'b-secret' && row.amount !== 999)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
