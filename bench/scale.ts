import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { RlsRepository } from '#control/rls';
import { saveDashboard } from '#admin/dashboards';
import { createDataset, putRlsRules } from '#admin/datasets';
import { runDashboardQuery } from '#datasets/dashboard-query';
import { importDataset } from '#datasets/import';
import { validateRollupDefinition } from '#datasets/rollups';
import type { Caller } from '#shared/identity';
import { startBenchTables } from './support.ts';
import {
  DEMO_DATE_FROM,
  DEMO_DATE_TO,
  generateSalesRows,
  SALES_PARAMETERS,
  SALES_ROLLUPS,
  SALES_SCHEMA,
  SALES_WIDGETS,
} from '../local/seed.ts';

/**
 * `npm run bench:scale [-- --json] [--rows 10000,100000,1000000] [--runs 7]`
 *
 * Imports the demo's sales generator (three regions, every day of the demo year) for one tenant
 * at each size, with the demo's rollups declared, and runs the 4-widget demo dashboard for one
 * viewer whose RLS grants one region through `runDashboardQuery` (the path the query function
 * uses): one warm-up, then the median of `--runs` runs. Reports p50, DynamoDB items read per
 * dashboard request, the same dashboard with rollups turned off at the smallest size, the p50
 * growth from the smallest to the largest size, and the import rate. With `--json` the last line
 * is one JSON object.
 */

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sizes = (option('--rows') ?? '10000,100000,1000000').split(',').map(Number);
const runs = Math.max(7, Number(option('--runs') ?? 7));
const log = (message: string) => (json ? console.error(message) : console.log(message));
const TENANT = 'scale';
const DAYS = 365;
const REGIONS = 3;

const tables = await startBenchTables('scale');
try {
  const { control } = tables;
  const datasets = new DatasetRepository(control);
  const dashboards = new DashboardRepository(control);
  const rls = new RlsRepository(control);
  const { data } = tables;
  const caller: Caller = { sub: 'viewer-eu', tenantId: TENANT, groups: [], attributes: { region: 'EU' } };
  const parameters = { dateRange: { from: DEMO_DATE_FROM, to: DEMO_DATE_TO } };

  const p50Ms: number[] = [];
  const itemsRead: number[] = [];
  const actualRows: number[] = [];
  let importRows = 0;
  let importSeconds = 0;
  let rawItemsRead = 0;
  for (const [index, size] of sizes.entries()) {
    const datasetId = `sales-${size}`;
    await createDataset({ datasets }, { tenantId: TENANT, datasetId, name: `Sales ${size}`, schema: SALES_SCHEMA });
    for (const rollup of SALES_ROLLUPS) {
      await datasets.putRollup(TENANT, datasetId, validateRollupDefinition(rollup, SALES_SCHEMA));
    }
    const rows = generateSalesRows({
      seed: 7,
      products: ['Anvil', 'Rocket Skates', 'Giant Magnet', 'Bird Seed'],
      rowsPerRegionDay: Math.max(1, Math.ceil(size / (DAYS * REGIONS))),
    });
    const started = performance.now();
    const summary = await importDataset(
      { tenantId: TENANT, datasetId, format: 'json', content: JSON.stringify(rows) },
      { datasets, data, concurrency: 8, maxRows: rows.length },
    );
    const seconds = (performance.now() - started) / 1000;
    importRows += summary.rowCount;
    importSeconds += seconds;
    actualRows.push(summary.rowCount);
    log(`${summary.rowCount} rows imported in ${seconds.toFixed(1)} s (rollups: ${JSON.stringify(summary.rollups)})`);
    await putRlsRules({ datasets, rls }, TENANT, datasetId, [
      { column: 'region', source: { kind: 'identity', claim: 'custom:region' } },
    ]);
    const dashboard = await saveDashboard(
      { dashboards, datasets, rls },
      {
        tenantId: TENANT,
        dashboardId: `overview-${size}`,
        title: 'Sales',
        parameters: SALES_PARAMETERS,
        widgets: SALES_WIDGETS.map((widget) => ({ ...widget, datasetId })) as unknown as readonly unknown[],
      },
    );
    log(`sources: ${JSON.stringify(dashboard.sources)}`);
    const request = (useRollups: boolean) =>
      runDashboardQuery(
        { caller, lockedParams: {}, parameters, dashboard },
        { datasets, rls, data, ...(useRollups ? {} : { useRollups: false }) },
      );
    await request(true); // warm-up
    const latencies: number[] = [];
    let reads = 0;
    for (let run = 0; run < runs; run++) {
      const begun = performance.now();
      const result = await request(true);
      latencies.push(performance.now() - begun);
      reads = result.reads.itemsRead;
    }
    latencies.sort((a, b) => a - b);
    p50Ms.push(Number(latencies[Math.floor(latencies.length / 2)]!.toFixed(1)));
    itemsRead.push(reads);
    if (index === 0) {
      await request(false);
      rawItemsRead = (await request(false)).reads.itemsRead;
    }
    log(`${summary.rowCount} rows: p50 ${p50Ms[index]} ms, ${reads} items read per dashboard request`);
  }
  const report = {
    sizes: actualRows,
    p50Ms,
    itemsRead,
    rawItemsRead,
    p50GrowthRatio: Number((p50Ms[p50Ms.length - 1]! / p50Ms[0]!).toFixed(2)),
    maxItemsRead: Math.max(...itemsRead),
    importRowsPerSec: Math.round(importRows / importSeconds),
    targets: { maxItemsRead: 2000, p50GrowthRatio: 2.0 },
  };
  log('');
  log('rows        p50 ms   items read / request');
  report.sizes.forEach((rows, i) => {
    log(`${String(rows).padEnd(10)}  ${String(p50Ms[i]).padStart(6)}   ${String(itemsRead[i]).padStart(6)}`);
  });
  log(`rollups off at ${report.sizes[0]} rows: ${rawItemsRead} items read per request`);
  log(`p50GrowthRatio ${report.p50GrowthRatio} (target ≤ 2.0), maxItemsRead ${report.maxItemsRead} (target ≤ 2000)`);
  log(`import: ${report.importRowsPerSec} rows/s`);
  if (json) console.log(JSON.stringify(report));
  if (report.maxItemsRead > 2000 || report.p50GrowthRatio > 2.0) process.exitCode = 1;
} finally {
  await tables.stop();
}
