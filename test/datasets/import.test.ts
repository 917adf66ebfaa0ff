import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetRepository } from '#control/datasets';
import { queryDataset } from '#datasets/dashboard-query';
import { cleanupRetiredVersions, importDataset, parseImportRows } from '#datasets/import';
import { validateDatasetSchema } from '#datasets/schema';
import { ImportInProgress, ImportRowsInvalid } from '#errors';
import { createTestTables, type TestTables, uniqueId, viewer } from './fixtures.ts';
import { createDataset } from '#admin/datasets';
import { putRlsRules, putRlsMapping } from '#admin/datasets';

const TENANT = 'tenant-imp';
const SCHEMA = {
  columns: [
    { name: 'region', type: 'string' },
    { name: 'day', type: 'date' },
    { name: 'amount', type: 'number', required: true },
    { name: 'paid', type: 'boolean' },
    { name: 'note', type: 'string' },
  ],
  partitionColumn: 'region',
  sortColumn: 'day',
};

let tables: TestTables;

async function newDataset(): Promise<string> {
  const datasetId = uniqueId('ds');
  await createDataset(tables, { tenantId: TENANT, datasetId, name: 'Imported', schema: SCHEMA });
  // Analysts see every row, so the reads below observe exactly what is stored.
  await putRlsRules(tables, TENANT, datasetId, [{ column: 'region', source: { kind: 'mapping', mappingId: 'all' } }]);
  return datasetId;
}

async function readAll(datasetId: string) {
  const result = await queryDataset(
    {
      caller: viewer({ tenantId: TENANT, groups: ['analysts'] }),
      datasetId,
      widgetQuery: { columns: ['region', 'day', 'amount'], orderBy: [{ key: 'amount' }] },
      lockedParams: {},
      parameters: {},
    },
    tables,
  );
  return result.rows;
}

async function itemsInTable(prefix: string): Promise<number> {
  // Counting through the key design: every partition of every version of this dataset.
  let count = 0;
  for (const version of ['v1', 'v2', 'v3', 'v4']) {
    for (const region of ['EU', 'US', 'APAC']) {
      const page = await tables.client.send(
        new QueryCommand({
          TableName: tables.dataTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${prefix}#${version}#${region}` },
          Select: 'COUNT',
        }),
      );
      count += page.Count ?? 0;
    }
  }
  return count;
}

beforeAll(async () => {
  tables = await createTestTables('import');
  await putRlsMapping(tables, TENANT, {
    id: 'all',
    entries: [{ principalType: 'group', principal: 'analysts', values: '*' }],
  });
});

describe('validation', () => {
  it('reports every bad row with line, column and reason, and writes nothing', async () => {
    // Prepare
    const datasetId = await newDataset();
    const csv = [
      'region,day,amount,paid,note',
      'EU,2024-01-01,10,true,ok',
      ',2024-01-02,11,true,missing region',
      'US,2024-13-01,12,false,bad month',
      'US,2024-01-03,twelve,maybe,two errors',
      'US,2024-01-04,13',
    ].join('\n');
    // Act
    const error = await importDataset({ tenantId: TENANT, datasetId, format: 'csv', content: csv }, tables).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toBeInstanceOf(ImportRowsInvalid);
    expect((error as ImportRowsInvalid).details).toEqual({
      total: 5,
      errors: [
        { line: 3, column: 'region', reason: 'a value is required' },
        { line: 4, column: 'day', reason: 'expected an ISO date or date-time' },
        { line: 5, column: 'amount', reason: 'expected a finite number' },
        { line: 5, column: 'paid', reason: 'expected true or false' },
        { line: 6, reason: 'expected 5 fields, found 3' },
      ],
    });
    const dataset = await tables.datasets.require(TENANT, datasetId);
    expect(dataset.activeVersion).toBeNull();
    expect(dataset.importLock).toBeUndefined();
    expect(await itemsInTable(`${TENANT}#${datasetId}`)).toBe(0);
  });

  it('refuses unknown and missing header columns, and unknown JSON keys', () => {
    const schema = validateDatasetSchema(SCHEMA);
    expect(parseImportRows(schema, 'csv', 'region,day,amount,secret\nEU,2024-01-01,1,x').errors).toEqual([
      { line: 1, column: 'secret', reason: 'unknown column' },
    ]);
    expect(parseImportRows(schema, 'csv', 'region,amount\nEU,1').errors).toEqual([
      { line: 1, column: 'day', reason: 'required column missing from the header' },
    ]);
    expect(
      parseImportRows(schema, 'ndjson', '{"region":"EU","day":"2024-01-01","amount":1,"pk":"x"}\nnot json').errors,
    ).toEqual([
      { line: 1, column: 'pk', reason: 'unknown column' },
      { line: 2, reason: 'malformed JSON' },
    ]);
    expect(parseImportRows(schema, 'json', '[{"region":"EU","day":"2024-01-01","amount":"NaN"}]').errors).toEqual([
      { line: 1, column: 'amount', reason: 'expected a finite number' },
    ]);
  });
});

describe('versions', () => {
  it('re-importing the same file does not duplicate rows, and deletes the previous version', async () => {
    // Prepare
    const datasetId = await newDataset();
    const csv = 'region,day,amount\nEU,2024-01-01,1\nEU,2024-01-01,1\nUS,2024-01-02,2\n';
    // Act
    const first = await importDataset({ tenantId: TENANT, datasetId, format: 'csv', content: csv }, tables);
    const second = await importDataset({ tenantId: TENANT, datasetId, format: 'csv', content: csv }, tables);
    // Assess
    expect(first).toMatchObject({ version: 'v1', rowCount: 3, partitions: 2, deletedItems: 0 });
    expect(second).toMatchObject({
      version: 'v2',
      previousVersion: 'v1',
      rowCount: 3,
      deletedItems: 3,
      cleanupPending: false,
    });
    expect(await readAll(datasetId)).toHaveLength(3); // the two identical rows stay two rows
    expect(await itemsInTable(`${TENANT}#${datasetId}`)).toBe(3);
    const dataset = await tables.datasets.require(TENANT, datasetId);
    expect(dataset).toMatchObject({
      activeVersion: 'v2',
      rowCount: 3,
      retiredVersions: [],
      partitionValues: ['EU', 'US'],
    });
  });

  it('refuses a second import while one holds the lock, and takes over an expired lock', async () => {
    // Prepare
    const datasetId = await newDataset();
    await tables.datasets.acquireImportLock(TENANT, datasetId, { partitionValues: ['EU'], lockMs: 60_000 });
    // Act / Assess: the live lock blocks
    await expect(
      importDataset(
        { tenantId: TENANT, datasetId, format: 'csv', content: 'region,day,amount\nEU,2024-01-01,1' },
        tables,
      ),
    ).rejects.toBeInstanceOf(ImportInProgress);
    // Prepare: a clock 2 minutes later sees the crashed import's lock as expired
    const later = new DatasetRepository(tables.control, { clock: () => Date.now() + 120_000 });
    // Act
    const summary = await importDataset(
      { tenantId: TENANT, datasetId, format: 'csv', content: 'region,day,amount\nEU,2024-01-01,1' },
      { ...tables, datasets: later },
    );
    // Assess
    expect(summary.version).toBe('v2');
    expect(await readAll(datasetId)).toEqual([{ region: 'EU', day: '2024-01-01T00:00:00.000Z', amount: 1 }]);
    expect((await tables.datasets.require(TENANT, datasetId)).retiredVersions).toEqual([]);
  });

  it('cleans up the rows of an abandoned import', async () => {
    // Prepare: v1 active, then an import that wrote some rows and failed at activation
    const datasetId = await newDataset();
    await importDataset(
      { tenantId: TENANT, datasetId, format: 'csv', content: 'region,day,amount\nEU,2024-01-01,1' },
      tables,
    );
    const failing = Object.create(tables.datasets) as DatasetRepository;
    failing.activateVersion = async () => {
      throw new Error('simulated crash before the switch');
    };
    await expect(
      importDataset(
        { tenantId: TENANT, datasetId, format: 'csv', content: 'region,day,amount\nUS,2024-01-01,5\nUS,2024-01-02,6' },
        { ...tables, datasets: failing },
      ),
    ).rejects.toThrow('simulated crash');
    // Assess: readers still see v1 only; the partial v2 is scheduled and then deleted
    expect(await readAll(datasetId)).toEqual([{ region: 'EU', day: '2024-01-01T00:00:00.000Z', amount: 1 }]);
    expect((await tables.datasets.require(TENANT, datasetId)).retiredVersions.map((r) => r.version)).toEqual(['v2']);
    const cleanup = await cleanupRetiredVersions(TENANT, datasetId, tables);
    expect(cleanup).toEqual({ deleted: 2, pending: false });
    expect(await itemsInTable(`${TENANT}#${datasetId}`)).toBe(1);
  });

  it('a reader during an import sees the old or the new version, never a mix', async () => {
    // Prepare: old = 300 rows of amount 1; new = 300 rows of amount 2 (different partitions too)
    const datasetId = await newDataset();
    const rows = (amount: number, regions: string[]) =>
      Array.from({ length: 300 }, (_, i) => ({
        region: regions[i % regions.length],
        day: `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
        amount,
      }));
    await importDataset(
      { tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(rows(1, ['EU', 'US'])) },
      tables,
    );
    // Act: read continuously while the new version is written, switched, and the old one deleted
    let importing = true;
    const observations: number[][] = [];
    const reader = (async () => {
      while (importing) {
        const seen = await queryDataset(
          {
            caller: viewer({ tenantId: TENANT, groups: ['analysts'] }),
            datasetId,
            widgetQuery: { groupBy: [{ column: 'amount' }], metrics: [{ op: 'count' }] },
            lockedParams: {},
            parameters: {},
          },
          tables,
        );
        observations.push(seen.rows.map((row) => Number(row.amount) * 1000 + Number(row.count)));
      }
    })();
    await importDataset(
      { tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(rows(2, ['US', 'APAC'])) },
      { ...tables, concurrency: 1 },
    );
    importing = false;
    await reader;
    // Assess: every observation is exactly "300 rows of 1" or "300 rows of 2"
    expect(observations.length).toBeGreaterThan(0);
    for (const observation of observations) expect([[1300], [2300]]).toContainEqual(observation);
    expect(await readAll(datasetId)).toHaveLength(300);
  });
});
