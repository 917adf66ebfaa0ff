import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { DatasetRepository } from '#control/datasets';
import { TableGateway } from '#control/table-gateway';
import { type ImportFormat, importDataset } from '#datasets/import';
import { EmbedError } from '#errors';
import { documentClient } from '#shared/clients';
import { requireEnv } from '#shared/config';

/**
 * `npm run import -- --tenant T --dataset D [--format csv|json|ndjson] file`
 *
 * Loads a CSV / JSON / NDJSON file into a dataset through the same domain function the API
 * uses (validation of every row, versioned write, atomic switch, cleanup). Tables come from
 * CONTROL_TABLE_NAME / DATA_TABLE_NAME; the endpoint from AWS_ENDPOINT_URL_DYNAMODB when set.
 * Exit codes: 0 imported, 1 refused or failed, 2 bad usage.
 */

const USAGE = 'usage: npm run import -- --tenant <tenantId> --dataset <datasetId> [--format csv|json|ndjson] <file>';

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        dataset: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const tenantId = values.tenant;
  const datasetId = values.dataset;
  if (typeof tenantId !== 'string' || typeof datasetId !== 'string') usage('--tenant and --dataset are required.');
  if (positionals.length !== 1) usage('exactly one input file is required.');
  const file = positionals[0]!;
  const format = (values.format ?? formatFromExtension(file)) as ImportFormat | undefined;
  if (format !== 'csv' && format !== 'json' && format !== 'ndjson') {
    usage('cannot tell the format from the file name; pass --format csv|json|ndjson.');
  }

  let controlTable: string;
  let dataTable: string;
  try {
    controlTable = requireEnv('CONTROL_TABLE_NAME');
    dataTable = requireEnv('DATA_TABLE_NAME');
  } catch (error) {
    usage((error as Error).message);
  }
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    usage(`cannot read ${file}.`);
  }

  const client = documentClient();
  const started = Date.now();
  try {
    const summary = await importDataset(
      { tenantId, datasetId, format, content },
      {
        datasets: new DatasetRepository(new TableGateway(client, controlTable)),
        data: new TableGateway(client, dataTable),
        onProgress: (written, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\rwritten ${written}/${total}`);
        },
      },
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(
      `imported ${summary.rowCount} rows into ${tenantId}/${datasetId} as ${summary.version}` +
        `${summary.previousVersion ? ` (replacing ${summary.previousVersion}, ${summary.deletedItems} old items deleted)` : ''}` +
        `; ${summary.partitions} partitions, ${summary.writeRetries} write retries, ${Date.now() - started} ms` +
        `${summary.cleanupPending ? '; cleanup of an old version is pending and will be retried by the next import' : ''}`,
    );
  } catch (error) {
    if (error instanceof EmbedError) {
      console.error(`${error.code}: ${error.message}`);
      const errors = (error.details?.errors ?? []) as Array<{ line: number; column?: string; reason: string }>;
      for (const row of errors)
        console.error(`  line ${row.line}${row.column ? `, column ${row.column}` : ''}: ${row.reason}`);
      const total = error.details?.total as number | undefined;
      if (total !== undefined && total > errors.length) console.error(`  … and ${total - errors.length} more`);
    } else {
      console.error(`import failed: ${(error as Error).message}`);
    }
    process.exitCode = 1;
  } finally {
    client.destroy();
  }
}

function formatFromExtension(file: string): ImportFormat | undefined {
  const extension = extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.json') return 'json';
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson';
  return undefined;
}

await main();
