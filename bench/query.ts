import { DatasetRepository } from '#control/datasets';
import { RlsRepository } from '#control/rls';
import { queryDataset } from '#datasets/dashboard-query';
import type { QueryStats } from '#datasets/executor';
import { importDataset } from '#datasets/import';
import type { Caller } from '#shared/identity';
import { startBenchTables } from './support.ts';
import { createDataset, putRlsMapping, putRlsRules } from '../functions/admin/datasets.ts';

/**
 * `npm run bench:query [-- --json] [--rows N] [--queries N]`
 *
 * Loads 100,000 rows (50 tenants × 5 regions × 400 rows) into its own DynamoDB Local and runs
 * the full viewer path (`queryDataset`: RLS rules and mappings, dataset item, compiled queries,
 * version re-check) for two kinds of viewer on the same dataset:
 * - aligned: RLS grants one value of the partition column (region) → one `Query`;
 * - non-aligned: RLS grants one value of a non-key column (category) → every partition is
 *   read and the FilterExpression discards what the viewer may not see.
 * Reports rows returned, items read (ScannedCount), consumed read capacity and latency
 * p50/p95; with `--json` the last line is one JSON object including `alignedReadAmplification`.
 */

const args = process.argv.slice(2);
const json = args.includes('--json');
const numberArg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TENANTS = 50;
const REGIONS = ['EU', 'US', 'APAC', 'LATAM', 'MEA'];
const CATEGORIES = ['books', 'games', 'music', 'tools'];
const totalRows = numberArg('--rows', 100_000);
const queriesPerKind = numberArg('--queries', 200);
const rowsPerTenant = Math.floor(totalRows / TENANTS);
const log = (message: string) => {
  if (!json) console.log(message);
  else console.error(message);
};

const tables = await startBenchTables('bench');
try {
  const { control } = tables;
  const datasets = new DatasetRepository(control);
  const rls = new RlsRepository(control);
  const { data } = tables;
  const tenantIds = Array.from({ length: TENANTS }, (_, i) => `bench-${String(i + 1).padStart(2, '0')}`);

  // --- load -------------------------------------------------------------------------------
  const loadStarted = Date.now();
  let loaded = 0;
  const loadTenant = async (tenantId: string, t: number) => {
    await createDataset(
      { datasets },
      {
        tenantId,
        datasetId: 'orders',
        name: 'Orders',
        schema: {
          columns: [
            { name: 'region', type: 'string' },
            { name: 'at', type: 'date' },
            { name: 'category', type: 'string' },
            { name: 'amount', type: 'number' },
            { name: 'customer', type: 'string' },
          ],
          partitionColumn: 'region',
          sortColumn: 'at',
        },
      },
    );
    const rows = Array.from({ length: rowsPerTenant }, (_, i) => ({
      region: REGIONS[i % REGIONS.length],
      at: new Date(Date.UTC(2024, 0, 1) + ((i * 7919 + t * 104_729) % (366 * 86_400)) * 1000).toISOString(),
      category: CATEGORIES[Math.floor(i / REGIONS.length) % CATEGORIES.length],
      amount: ((i * 37 + t) % 1000) / 10,
      customer: `c-${t}-${i % 97}`,
    }));
    await importDataset(
      { tenantId, datasetId: 'orders', format: 'json', content: JSON.stringify(rows) },
      { datasets, data, concurrency: 4 },
    );
    await putRlsRules({ datasets, rls }, tenantId, 'orders', [
      { column: 'region', source: { kind: 'mapping', mappingId: 'regions' } },
      { column: 'category', source: { kind: 'mapping', mappingId: 'categories' } },
    ]);
    await putRlsMapping({ rls }, tenantId, {
      id: 'regions',
      entries: [
        ...REGIONS.map((region) => ({
          principalType: 'user' as const,
          principal: `aligned-${region}`,
          values: [region],
        })),
        { principalType: 'group' as const, principal: 'category-viewers', values: '*' as const },
      ],
    });
    await putRlsMapping({ rls }, tenantId, {
      id: 'categories',
      entries: [
        { principalType: 'group' as const, principal: 'region-viewers', values: '*' as const },
        ...CATEGORIES.map((category) => ({
          principalType: 'user' as const,
          principal: `by-${category}`,
          values: [category],
        })),
      ],
    });
    loaded += rowsPerTenant;
  };
  const pending = tenantIds.map((tenantId, t) => () => loadTenant(tenantId, t));
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        await next();
        log(`loaded ${loaded}/${rowsPerTenant * TENANTS} rows`);
      }
    }),
  );
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  log(`load: ${loaded} rows in ${loadSeconds.toFixed(1)} s (${Math.round(loaded / loadSeconds)} rows/s)`);

  // --- queries ----------------------------------------------------------------------------
  interface Totals {
    queries: number;
    rowsReturned: number;
    itemsRead: number;
    consumedRead: number;
    dynamoQueries: number;
    latencies: number[];
  }
  const run = async (kind: 'aligned' | 'nonAligned'): Promise<Totals> => {
    const totals: Totals = {
      queries: 0,
      rowsReturned: 0,
      itemsRead: 0,
      consumedRead: 0,
      dynamoQueries: 0,
      latencies: [],
    };
    for (let q = 0; q < queriesPerKind; q++) {
      const tenantId = tenantIds[(q * 7) % TENANTS]!;
      const caller: Caller =
        kind === 'aligned'
          ? { sub: `aligned-${REGIONS[q % REGIONS.length]}`, tenantId, groups: ['region-viewers'], attributes: {} }
          : { sub: `by-${CATEGORIES[q % CATEGORIES.length]}`, tenantId, groups: ['category-viewers'], attributes: {} };
      const started = performance.now();
      const result = await queryDataset(
        {
          caller,
          datasetId: 'orders',
          widgetQuery: { columns: ['region', 'at', 'category', 'amount'] },
          lockedParams: {},
          parameters: {},
        },
        { datasets, rls, data },
      );
      totals.latencies.push(performance.now() - started);
      const stats: QueryStats = result.stats;
      totals.queries++;
      totals.rowsReturned += result.rows.length;
      totals.itemsRead += stats.itemsRead;
      totals.consumedRead += stats.consumedRead;
      totals.dynamoQueries += stats.queries;
    }
    return totals;
  };
  await run('aligned'); // warm-up (JIT, connection pool, DynamoDB Local caches)
  const aligned = await run('aligned');
  const nonAligned = await run('nonAligned');

  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  };
  const summarise = (t: Totals) => ({
    queries: t.queries,
    rowsReturnedPerQuery: t.rowsReturned / t.queries,
    itemsReadPerQuery: t.itemsRead / t.queries,
    consumedReadPerQuery: Number((t.consumedRead / t.queries).toFixed(2)),
    dynamoQueriesPerQuery: t.dynamoQueries / t.queries,
    readAmplification: Number((t.itemsRead / Math.max(1, t.rowsReturned)).toFixed(3)),
    latencyMs: {
      p50: Number(percentile(t.latencies, 50).toFixed(1)),
      p95: Number(percentile(t.latencies, 95).toFixed(1)),
    },
  });
  const report = {
    rows: loaded,
    tenants: TENANTS,
    partitionsPerTenant: REGIONS.length,
    loadSeconds: Number(loadSeconds.toFixed(1)),
    aligned: summarise(aligned),
    nonAligned: summarise(nonAligned),
    alignedReadAmplification: Number((aligned.itemsRead / Math.max(1, aligned.rowsReturned)).toFixed(3)),
    target: { alignedReadAmplification: 1.1 },
  };
  log('');
  log('kind          rows/query  items read/query  RCU/query  Query calls  amplification  p50 ms  p95 ms');
  for (const [name, s] of [
    ['aligned', report.aligned],
    ['non-aligned', report.nonAligned],
  ] as const) {
    log(
      `${name.padEnd(13)} ${String(s.rowsReturnedPerQuery).padStart(10)}  ${String(s.itemsReadPerQuery).padStart(16)}  ${String(s.consumedReadPerQuery).padStart(9)}  ${String(s.dynamoQueriesPerQuery).padStart(11)}  ${String(s.readAmplification).padStart(13)}  ${String(s.latencyMs.p50).padStart(6)}  ${String(s.latencyMs.p95).padStart(6)}`,
    );
  }
  log(`alignedReadAmplification = ${report.alignedReadAmplification} (target ≤ 1.1)`);
  if (json) console.log(JSON.stringify(report));
  if (report.alignedReadAmplification > 1.1) process.exitCode = 1;
} finally {
  await tables.stop();
}
