import { beforeAll, describe, expect, it } from 'vitest';
import { saveDashboard } from '#admin/dashboards';
import { createDataset, putRlsMapping, putRlsRules } from '#admin/datasets';
import { declareRollup, dropRollup, listRollups } from '#admin/rollups';
import { DashboardRepository } from '#control/dashboards';
import { queryDataset, runDashboardQuery } from '#datasets/dashboard-query';
import { importDataset } from '#datasets/import';
import { validateRollupDefinition } from '#datasets/rollups';
import type { WidgetQuery } from '#datasets/widget';
import { DatasetSchemaInvalid } from '#errors';
import { createTestTables, type TestTables, uniqueId, viewer } from './fixtures.ts';

/**
 * Rollups on DynamoDB Local: a rollup is never used when it would show a viewer more than its
 * raw rows would, it is built at import in the same version and for the active version on
 * declaration, dropped rollups stop being read, and the executor's top-N pushdown and shared
 * reads read what they promise.
 */

const TENANT = 'tenant-rollups';
const SCHEMA = {
  columns: [
    { name: 'region', type: 'string' },
    { name: 'day', type: 'date' },
    { name: 'channel', type: 'string' },
    { name: 'amount', type: 'number' },
  ],
  partitionColumn: 'region',
  sortColumn: 'day',
};
const ROWS = [
  { region: 'EU', day: '2025-01-01', channel: 'web', amount: 10.1 },
  { region: 'EU', day: '2025-01-01T12:00:00Z', channel: 'shop', amount: 20.2 },
  { region: 'EU', day: '2025-01-02', channel: 'web', amount: 30.3 },
  { region: 'EU', day: '2025-01-09', channel: 'web', amount: 0.1 },
  { region: 'US', day: '2025-01-01', channel: 'web', amount: 1000 },
  { region: 'US', day: '2025-01-05', channel: 'shop', amount: 2000 },
  { region: 'APAC', day: '2025-01-03', channel: 'web', amount: 500 },
];
const KPI: WidgetQuery = { metrics: [{ op: 'sum', column: 'amount' }, { op: 'count' }] };

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables('rollups');
});

async function dataset(rollups: unknown[], rows: unknown[] = ROWS): Promise<string> {
  const datasetId = uniqueId('ds');
  await createDataset(tables, { tenantId: TENANT, datasetId, name: 'Rollups', schema: SCHEMA });
  const schema = (await tables.datasets.require(TENANT, datasetId)).schema;
  for (const rollup of rollups) {
    await tables.datasets.putRollup(TENANT, datasetId, validateRollupDefinition(rollup, schema));
  }
  await importDataset({ tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(rows) }, tables);
  await putRlsRules(tables, TENANT, datasetId, [
    { column: 'region', source: { kind: 'mapping', mappingId: datasetId } },
  ]);
  await putRlsMapping(tables, TENANT, {
    id: datasetId,
    entries: [
      { principalType: 'user', principal: 'eu-viewer', values: ['EU'] },
      { principalType: 'user', principal: 'all-viewer', values: '*' },
    ],
  });
  return datasetId;
}

const eu = viewer({ sub: 'eu-viewer', tenantId: TENANT });
const all = viewer({ sub: 'all-viewer', tenantId: TENANT });
const nobody = viewer({ sub: 'nobody', tenantId: TENANT });

function query(datasetId: string, widgetQuery: WidgetQuery, caller = eu, parameters = {}) {
  return queryDataset({ caller, datasetId, widgetQuery, lockedParams: {}, parameters }, tables);
}

describe('a rollup never shows a viewer more than its rows', () => {
  it('a rollup without the RLS column serves only viewers whose grant on it is *', async () => {
    // Prepare: the only rollup lacks `region`, the RLS column
    const datasetId = await dataset([
      { id: 'by-channel', dimensions: ['channel'], measures: [{ op: 'count' }, { op: 'sum', column: 'amount' }] },
    ]);
    // Act
    const restricted = await query(datasetId, KPI, eu);
    const unrestricted = await query(datasetId, KPI, all);
    // Assess: EU sees only EU from rows; the `*` viewer is served by the rollup
    expect(restricted.source).toBe('raw');
    expect(restricted.rows).toEqual([{ sum_amount: 60.7, count: 4 }]);
    expect(unrestricted.source).toBe('rollup:by-channel');
    expect(unrestricted.rows).toEqual([{ sum_amount: 3560.7, count: 7 }]);
  });

  it('a rollup without a filter column is not used, and neither is a filter inside a day', async () => {
    const datasetId = await dataset([
      {
        id: 'by-region-day',
        dimensions: ['region'],
        time: { column: 'day', granularity: 'day' },
        measures: [{ op: 'count' }, { op: 'sum', column: 'amount' }],
      },
    ]);
    const byChannel = await query(datasetId, { ...KPI, filters: [{ column: 'channel', op: 'eq', value: 'web' }] });
    const insideADay = await query(datasetId, {
      ...KPI,
      filters: [{ column: 'day', op: 'gte', value: '2025-01-01T06:00:00Z' }],
    });
    const wholeDays = await query(datasetId, {
      ...KPI,
      filters: [{ column: 'day', op: 'between', values: ['2025-01-01', '2025-01-02'] }],
    });
    expect(byChannel).toMatchObject({ source: 'raw', rows: [{ sum_amount: 40.5, count: 3 }] });
    expect(insideADay).toMatchObject({ source: 'raw', rows: [{ sum_amount: 50.6, count: 3 }] });
    expect(wholeDays).toMatchObject({ source: 'rollup:by-region-day', rows: [{ sum_amount: 60.6, count: 3 }] });
  });

  it('reads only the viewer’s partitions of the rollup, and nothing for a viewer with no grant', async () => {
    const datasetId = await dataset([
      { id: 'by-region', dimensions: ['region'], measures: [{ op: 'count' }, { op: 'sum', column: 'amount' }] },
    ]);
    const restricted = await query(datasetId, KPI, eu);
    const denied = await query(datasetId, KPI, nobody);
    expect(restricted).toMatchObject({ source: 'rollup:by-region', rows: [{ sum_amount: 60.7, count: 4 }] });
    expect(restricted.stats).toMatchObject({ partitions: 1, itemsRead: 1 });
    expect(denied.rows).toEqual([{ sum_amount: null, count: 0 }]);
    expect(denied.stats.itemsRead).toBe(0);
  });
});

describe('rollup lifecycle', () => {
  it('declaring a rollup on an active version builds it; dropping it stops its use and deletes its items', async () => {
    // Prepare: data imported before any rollup exists
    const datasetId = await dataset([]);
    const deps = { datasets: tables.datasets, data: tables.data };
    expect((await query(datasetId, KPI)).source).toBe('raw');
    // Act: declare
    const declared = await declareRollup(deps, TENANT, datasetId, {
      id: 'by-region',
      dimensions: ['region'],
      measures: [{ op: 'count' }, { op: 'sum', column: 'amount' }],
    });
    // Assess
    expect(declared).toMatchObject({ id: 'by-region', ready: true, items: 3 });
    expect(await query(datasetId, KPI)).toMatchObject({ source: 'rollup:by-region', rows: [{ sum_amount: 60.7 }] });
    // A re-import builds it again in the new version
    await importDataset(
      { tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(ROWS.slice(0, 2)) },
      tables,
    );
    expect(await query(datasetId, KPI)).toMatchObject({
      source: 'rollup:by-region',
      rows: [{ sum_amount: 10.1 + 20.2 }],
    });
    // Drop
    await dropRollup(deps, TENANT, datasetId, 'by-region');
    expect(await listRollups(deps, TENANT, datasetId)).toEqual([]);
    expect(await query(datasetId, KPI)).toMatchObject({ source: 'raw', rows: [{ sum_amount: 10.1 + 20.2 }] });
    const left = await tables.data.query({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': `${TENANT}#${datasetId}#v2#R#by-region#g` },
    });
    expect(left.Count).toBe(0);
    expect((await tables.datasets.require(TENANT, datasetId)).retiredVersions).toEqual([]);
  });

  it("writes rollup items only under the tenant's key prefix, which the tenant role's LeadingKeys condition covers", async () => {
    const datasetId = await dataset([{ id: 'by-region', dimensions: ['region'], measures: [{ op: 'count' }] }]);
    const version = (await tables.datasets.require(TENANT, datasetId)).activeVersion!;
    const build = (await tables.datasets.require(TENANT, datasetId)).rollups[0]!.build!;
    for (const suffix of build.partitionKeys) {
      const items = await tables.data.query({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': `${TENANT}#${datasetId}#${version}#${suffix}` },
      });
      expect(items.Count).toBe(1);
      // `${aws:PrincipalTag/tenant}#*` (lib/constructs/tenant-data-role.ts) matches every one of these keys.
      for (const item of items.Items ?? []) expect(String(item.pk).startsWith(`${TENANT}#`)).toBe(true);
    }
    expect(build.partitionKeys).toHaveLength(3);
  });

  it('refuses a declaration that does not fit the schema, naming the field', () => {
    const schema = { ...SCHEMA, columns: SCHEMA.columns } as never;
    expect(() =>
      validateRollupDefinition({ id: 'x', dimensions: ['nope'], measures: [{ op: 'count' }] }, schema),
    ).toThrow(DatasetSchemaInvalid);
    expect(() =>
      validateRollupDefinition({ id: 'x', dimensions: [], measures: [{ op: 'sum', column: 'channel' }] }, schema),
    ).toThrow(DatasetSchemaInvalid);
    expect(() =>
      validateRollupDefinition(
        { id: 'x', dimensions: ['day'], time: { column: 'day', granularity: 'day' }, measures: [{ op: 'count' }] },
        schema,
      ),
    ).toThrow(DatasetSchemaInvalid);
  });
});

describe('top-N pushdown and shared reads', () => {
  it('a table ordered by the sort column with a limit reads about limit items per partition and returns the exact top N', async () => {
    // Prepare: 3 regions × 40 days, with ties on the last day kept
    const rows = ['EU', 'US', 'APAC'].flatMap((region) =>
      Array.from({ length: 40 }, (_, i) => ({
        region,
        day: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
        channel: i % 2 ? 'web' : 'shop',
        amount: i,
      })),
    );
    rows.push({ region: 'US', day: rows[39]!.day, channel: 'tie', amount: 99 });
    const datasetId = await dataset([], rows);
    const table: WidgetQuery = {
      columns: ['region', 'day', 'amount'],
      orderBy: [{ key: 'day', direction: 'desc' }],
      limit: 5,
    };
    // Act
    const top = await query(datasetId, table, all);
    const everything = await query(datasetId, { ...table, limit: 1000 }, all);
    // Assess: the same first rows as reading everything, at a fraction of the reads
    expect(top.rows).toEqual(everything.rows.slice(0, 5));
    expect(top.stats.itemsRead).toBeLessThanOrEqual(3 * 6);
    expect(everything.stats.itemsRead).toBe(121);
    const ascending = await query(datasetId, { ...table, orderBy: [{ key: 'day', direction: 'asc' }] }, all);
    const ascendingAll = await query(datasetId, { ...table, orderBy: [{ key: 'day' }], limit: 1000 }, all);
    expect(ascending.rows).toEqual(ascendingAll.rows.slice(0, 5));
    // A filter the key cannot express still leaves exactly the top N
    const filtered = await query(
      datasetId,
      { ...table, filters: [{ column: 'channel', op: 'eq', value: 'web' }] },
      all,
    );
    const filteredAll = await query(
      datasetId,
      { ...table, limit: 1000, filters: [{ column: 'channel', op: 'eq', value: 'web' }] },
      all,
    );
    expect(filtered.rows).toEqual(filteredAll.rows.slice(0, 5));
  });

  it('a shared read gives each widget the answer it gets alone, whatever columns the others filter on', async () => {
    // Prepare: two counts filtered on a column no widget outputs, read from rows (no rollup has it).
    const datasetId = await dataset([]);
    const dashboards = new DashboardRepository(tables.control);
    const range = { column: 'day', op: 'between', values: ['2025-01-01', '2025-12-31'] };
    const count = (id: string, channel?: string) => ({
      id,
      type: 'number',
      title: id,
      datasetId,
      query: {
        filters: channel ? [range, { column: 'channel', op: 'eq', value: channel }] : [range],
        metrics: [{ op: 'count' }],
      },
    });
    const dashboard = await saveDashboard(
      { dashboards, datasets: tables.datasets },
      {
        tenantId: TENANT,
        dashboardId: uniqueId('db'),
        title: 'Counts',
        widgets: [count('web', 'web'), count('shop', 'shop'), count('all')],
      },
    );
    const run = (widgetIds?: string[]) =>
      runDashboardQuery(
        { caller: eu, lockedParams: {}, parameters: {}, dashboard, ...(widgetIds ? { widgetIds } : {}) },
        { datasets: tables.datasets, rls: tables.rls, data: tables.data },
      );
    // Act
    const together = await run();
    const alone = await Promise.all(['web', 'shop', 'all'].map((id) => run([id])));
    // Assess
    expect(together.reads.queries).toBeLessThan(alone.reduce((sum, r) => sum + r.reads.queries, 0));
    for (const [i, id] of ['web', 'shop', 'all'].entries()) {
      expect(together.widgets[id]!.rows).toEqual(alone[i]!.widgets[id]!.rows);
    }
    const counted = (id: string) => (together.widgets[id]!.rows[0] as { count: number }).count;
    expect(counted('web') + counted('shop')).toBeGreaterThan(0);
    expect(counted('all')).toBeGreaterThanOrEqual(counted('web') + counted('shop'));
  });

  it('widgets of one dashboard over the same source and range share one read', async () => {
    const datasetId = await dataset([
      {
        id: 'by-region-day',
        dimensions: ['region'],
        time: { column: 'day', granularity: 'day' },
        measures: [{ op: 'count' }, { op: 'sum', column: 'amount' }],
      },
    ]);
    const dashboards = new DashboardRepository(tables.control);
    const filters = [{ column: 'day', op: 'between', values: ['2025-01-01', '2025-01-31'] }];
    const dashboard = await saveDashboard(
      { dashboards, datasets: tables.datasets },
      {
        tenantId: TENANT,
        dashboardId: uniqueId('db'),
        title: 'Shared',
        widgets: [
          {
            id: 'kpi',
            type: 'number',
            title: 'KPI',
            datasetId,
            query: { filters, metrics: [{ op: 'sum', column: 'amount' }] },
          },
          {
            id: 'by-day',
            type: 'bar',
            title: 'Days',
            datasetId,
            query: { filters, groupBy: [{ column: 'day', bucket: 'day' }], metrics: [{ op: 'count' }] },
          },
          {
            id: 'by-week',
            type: 'line',
            title: 'Weeks',
            datasetId,
            query: {
              filters,
              groupBy: [{ column: 'day', bucket: 'week' }],
              metrics: [{ op: 'sum', column: 'amount' }],
            },
          },
        ],
      },
    );
    // Act
    const result = await runDashboardQuery(
      { caller: eu, lockedParams: {}, parameters: {}, dashboard },
      { datasets: tables.datasets, rls: tables.rls, data: tables.data },
    );
    // Assess: one Query of the one EU rollup partition fed all three widgets
    expect(result.reads.queries).toBe(1);
    expect(result.reads.itemsRead).toBe(3);
    expect(result.widgets.kpi!.rows).toEqual([{ sum_amount: 60.7 }]);
    expect(result.widgets['by-day']!.rows).toEqual([
      { day: '2025-01-01', count: 2 },
      { day: '2025-01-02', count: 1 },
      { day: '2025-01-09', count: 1 },
    ]);
    expect(result.widgets['by-week']!.rows).toEqual([
      { day: '2024-12-30', sum_amount: 60.6 },
      { day: '2025-01-06', sum_amount: 0.1 },
    ]);
  });
});
