import { parse as parseCsv } from 'csv-parse/sync';
import { ImportRowsInvalid, ImportTooLarge } from '#errors';
import type { Dataset, DatasetRepository, VersionRef } from '#control/datasets';
import type { TableGateway } from '#control/table-gateway';
import { batchWriteAll, deletePartitions } from './batch-write.ts';
import { buildRollupItems } from './rollups.ts';
import { buildRowItem, contentHash, dataPartitionKey, type Row, rowId, versionKeyPrefix } from './row-keys.ts';
import { type DatasetSchema, isKeyColumn, MAX_KEY_STRING_LENGTH, MAX_STRING_LENGTH } from './schema.ts';
import { type CellValue, compareValues, parseCell } from './values.ts';

/**
 * Import of CSV or JSON rows into a dataset, all or nothing:
 * 1. every row is validated against the schema; any bad row → `IMPORT_ROWS_INVALID` listing
 *    line, column and reason, and nothing is written;
 * 2. the import lock is taken and the rows are written under a new version (deterministic row
 *    ids, so the same file always produces the same items);
 * 3. the dataset's `activeVersion` flips in one conditional update, so readers see the old or
 *    the new version, never a mix;
 * 4. the previous version's rows are deleted.
 */

export type ImportFormat = 'csv' | 'json' | 'ndjson';

export interface RowError {
  /** File line (CSV, NDJSON) or 1-based element number (JSON array). */
  readonly line: number;
  readonly column?: string;
  readonly reason: string;
}

export interface ImportOptions {
  readonly datasets: DatasetRepository;
  /** The data table, as the tenant (the tenant-scoped writer role). */
  readonly data: TableGateway;
  /** Import lock lifetime; renewed while writing (default 10 minutes). */
  readonly lockMs?: number;
  /** Parallel BatchWriteItem calls (default 4). */
  readonly concurrency?: number;
  readonly maxRows?: number;
  /** Optional progress callback (rows written so far). */
  readonly onProgress?: (written: number, total: number) => void;
}

export interface ImportSummary {
  readonly tenantId: string;
  readonly datasetId: string;
  readonly version: string;
  readonly previousVersion?: string;
  readonly rowCount: number;
  readonly partitions: number;
  /** Items of retired versions deleted after the switch. */
  readonly deletedItems: number;
  /** BatchWriteItem retries caused by `UnprocessedItems`. */
  readonly writeRetries: number;
  /** True when deleting an old version failed; it stays scheduled and the next import retries. */
  readonly cleanupPending: boolean;
  /** Rollups built in this version, and their items. */
  readonly rollups: readonly { readonly id: string; readonly items: number }[];
  /** Rollups not built because their partitions would exceed the cap (readers use rows for them). */
  readonly rollupsSkipped: readonly string[];
}

export const DEFAULT_MAX_ROWS = 1_000_000;
/** The partition values of a version live in the dataset item (400 KB limit), so they are capped. */
export const MAX_PARTITIONS = 1_000;
export const MAX_PARTITION_BYTES = 64 * 1024;
const DEFAULT_LOCK_MS = 10 * 60 * 1000;

/** Imports a CSV / JSON / NDJSON document into a dataset and switches readers to it atomically. */
export async function importDataset(
  input: { tenantId: string; datasetId: string; format: ImportFormat; content: string | Buffer },
  options: ImportOptions,
): Promise<ImportSummary> {
  const dataset = await options.datasets.require(input.tenantId, input.datasetId, { consistent: true });
  const schema = dataset.schema;
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const { rows, errors } = parseImportRows(schema, input.format, input.content, maxRows);
  if (errors.length > 0) throw new ImportRowsInvalid(errors, errors.length);

  const partitionValues = distinctPartitionValues(schema, rows);
  const partitionBytes = partitionValues.reduce((sum: number, value) => sum + Buffer.byteLength(String(value)), 0);
  if (partitionValues.length > MAX_PARTITIONS || partitionBytes > MAX_PARTITION_BYTES) {
    throw new ImportTooLarge(
      `more than ${MAX_PARTITIONS} distinct partition values (or ${MAX_PARTITION_BYTES} bytes)`,
      {
        partitions: partitionValues.length,
      },
    );
  }

  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  // The version name is only known once the lock is taken; rollup keys depend on it through the
  // prefix only, so their partition suffixes are known (and recorded with the lock) beforehand.
  const planned = buildRollupItems(schema, dataset.rollups, rows, '', '');
  const { version } = await options.datasets.acquireImportLock(dataset.tenantId, dataset.datasetId, {
    partitionValues,
    rollupPartitionKeys: planned.built.flatMap((rollup) => rollup.build.partitionKeys),
    lockMs,
  });
  const prefix = versionKeyPrefix(dataset.tenantId, dataset.datasetId, version);
  const occurrences = new Map<string, number>();
  const requests = rows.map((row) => {
    const hash = contentHash(schema, row);
    const occurrence = occurrences.get(hash) ?? 0;
    occurrences.set(hash, occurrence + 1);
    return { PutRequest: { Item: buildRowItem(schema, prefix, row, rowId(schema, row, occurrence)) } };
  });
  // Rollup items go into the same version with the same writes, so the version switch publishes
  // them together with the rows.
  for (const item of planned.items) requests.push({ PutRequest: { Item: { ...item, pk: prefix + item.pk } } });
  const rollups = {
    built: planned.built.map((rollup) => ({ ...rollup, build: { ...rollup.build, version } })),
    skipped: planned.skipped,
  };

  let writeRetries = 0;
  let previous: VersionRef | undefined;
  try {
    let written = 0;
    let lastRenewal = Date.now();
    const result = await batchWriteAll(options.data, requests, {
      concurrency: options.concurrency ?? 4,
      onChunk: async () => {
        written = Math.min(written + 25, requests.length);
        options.onProgress?.(written, requests.length);
        if (Date.now() - lastRenewal > lockMs / 3) {
          lastRenewal = Date.now();
          await options.datasets.renewImportLock(dataset.tenantId, dataset.datasetId, version, lockMs);
        }
      },
    });
    writeRetries = result.retries;
    previous = await options.datasets.activateVersion(dataset.tenantId, dataset.datasetId, {
      version,
      partitionValues,
      rowCount: rows.length,
      rollups: rollups.built,
    });
  } catch (error) {
    await options.datasets.abandonImport(dataset.tenantId, dataset.datasetId, {
      version,
      partitionValues,
      rollupPartitionKeys: rollups.built.flatMap((rollup) => rollup.build.partitionKeys),
    });
    throw error;
  }

  const cleanup = await cleanupRetiredVersions(dataset.tenantId, dataset.datasetId, options);
  return {
    tenantId: dataset.tenantId,
    datasetId: dataset.datasetId,
    version,
    ...(previous ? { previousVersion: previous.version } : {}),
    rowCount: rows.length,
    partitions: partitionValues.length,
    deletedItems: cleanup.deleted,
    writeRetries,
    cleanupPending: cleanup.pending,
    rollups: rollups.built.map((rollup) => ({ id: rollup.id, items: rollup.build.itemCount })),
    rollupsSkipped: rollups.skipped,
  };
}

/**
 * Deletes the rows of every retired version of a dataset (previous active versions, crashed or
 * failed imports) and forgets each version once its rows are gone. Failures leave the version
 * scheduled for the next run.
 */
export async function cleanupRetiredVersions(
  tenantId: string,
  datasetId: string,
  options: Pick<ImportOptions, 'datasets' | 'data' | 'concurrency'>,
): Promise<{ deleted: number; pending: boolean }> {
  const dataset: Dataset = await options.datasets.require(tenantId, datasetId, { consistent: true });
  let deleted = 0;
  let pending = false;
  for (const retired of dataset.retiredVersions) {
    // Never delete what readers are reading (a crashed import cannot retire the active version, but be certain).
    // Retired rollup partitions of the active version (a dropped rollup) are no longer read by anyone.
    const activeRows = retired.version === dataset.activeVersion || retired.version === dataset.importLock?.version;
    if (activeRows && !retired.rollupsOnly) continue;
    try {
      const prefix = versionKeyPrefix(tenantId, datasetId, retired.version);
      const keys = [
        ...(retired.rollupsOnly
          ? []
          : retired.partitionValues.map((value) => dataPartitionKey(dataset.schema, prefix, value))),
        ...(retired.rollupPartitionKeys ?? []).map((suffix) => prefix + suffix),
      ];
      deleted += await deletePartitions(options.data, keys, { concurrency: options.concurrency ?? 4 });
      await options.datasets.forgetRetiredVersion(tenantId, datasetId, retired);
    } catch {
      pending = true;
    }
  }
  return { deleted, pending };
}

/**
 * Parses and validates an import document against a schema. Returns the typed rows and every
 * row error (line, column, reason); callers must write nothing when `errors` is non-empty.
 */
export function parseImportRows(
  schema: DatasetSchema,
  format: ImportFormat,
  content: string | Buffer,
  maxRows = DEFAULT_MAX_ROWS,
): { rows: Row[]; errors: RowError[] } {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const records = format === 'csv' ? csvRecords(schema, text) : jsonRecords(text, format);
  const errors: RowError[] = [...records.errors];
  const rows: Row[] = [];
  if (records.records.length > maxRows) {
    throw new ImportTooLarge(`more than ${maxRows} rows`, { rows: records.records.length });
  }
  const known = new Set(schema.columns.map((column) => column.name));
  for (const { line, values } of records.records) {
    const row: Record<string, CellValue> = {};
    let valid = true;
    for (const key of Object.keys(values)) {
      if (!known.has(key)) {
        errors.push({ line, column: key.slice(0, 80), reason: 'unknown column' });
        valid = false;
      }
    }
    for (const column of schema.columns) {
      const parsed = parseCell(column.type, values[column.name]);
      if (!parsed.ok) {
        errors.push({ line, column: column.name, reason: parsed.reason });
        valid = false;
        continue;
      }
      if (parsed.value === null) {
        if (column.required) {
          errors.push({ line, column: column.name, reason: 'a value is required' });
          valid = false;
        }
        continue;
      }
      if (typeof parsed.value === 'string' && column.type === 'string') {
        const max = isKeyColumn(schema, column.name) ? MAX_KEY_STRING_LENGTH : MAX_STRING_LENGTH;
        if (parsed.value.length > max) {
          errors.push({ line, column: column.name, reason: `longer than ${max} characters` });
          valid = false;
          continue;
        }
      }
      row[column.name] = parsed.value;
    }
    if (valid) rows.push(row);
  }
  // Structural errors are found before cell errors; report them all in file order (stable sort).
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

interface RawRecord {
  readonly line: number;
  readonly values: Readonly<Record<string, unknown>>;
}

function csvRecords(schema: DatasetSchema, text: string): { records: RawRecord[]; errors: RowError[] } {
  let parsed: Array<{ record: string[]; info: { lines: number } }>;
  try {
    parsed = parseCsv(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as unknown as Array<{
      record: string[];
      info: { lines: number };
    }>;
  } catch (error) {
    const line = typeof (error as { lines?: unknown }).lines === 'number' ? (error as { lines: number }).lines : 1;
    return { records: [], errors: [{ line, reason: `malformed CSV: ${(error as Error).message.slice(0, 200)}` }] };
  }
  const [header, ...body] = parsed;
  if (!header) return { records: [], errors: [] };
  const names = header.record.map((name) => name.trim());
  const errors: RowError[] = [];
  const known = new Set(schema.columns.map((column) => column.name));
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.has(name)) errors.push({ line: header.info.lines, column: name.slice(0, 80), reason: 'unknown column' });
    else if (seen.has(name)) errors.push({ line: header.info.lines, column: name, reason: 'duplicate column' });
    seen.add(name);
  }
  for (const column of schema.columns) {
    if (column.required && !seen.has(column.name)) {
      errors.push({ line: header.info.lines, column: column.name, reason: 'required column missing from the header' });
    }
  }
  if (errors.length > 0) return { records: [], errors };
  const records: RawRecord[] = [];
  for (const { record, info } of body) {
    if (record.length !== names.length) {
      errors.push({ line: info.lines, reason: `expected ${names.length} fields, found ${record.length}` });
      continue;
    }
    records.push({ line: info.lines, values: Object.fromEntries(names.map((name, i) => [name, record[i]])) });
  }
  return { records, errors };
}

function jsonRecords(text: string, format: 'json' | 'ndjson'): { records: RawRecord[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const records: RawRecord[] = [];
  const accept = (line: number, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push({ line, reason: 'expected a JSON object' });
    } else {
      records.push({ line, values: value as Record<string, unknown> });
    }
  };
  const trimmed = text.trim();
  if (format === 'json' && trimmed.startsWith('[')) {
    let array: unknown;
    try {
      array = JSON.parse(trimmed);
    } catch (error) {
      return { records, errors: [{ line: 1, reason: `malformed JSON: ${(error as Error).message.slice(0, 200)}` }] };
    }
    if (!Array.isArray(array)) return { records, errors: [{ line: 1, reason: 'expected an array of objects' }] };
    for (const [i, value] of array.entries()) accept(i + 1, value);
    return { records, errors };
  }
  // NDJSON (also accepted for `json` when the document is not an array): one object per line.
  text.split(/\r?\n/).forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    try {
      accept(i + 1, JSON.parse(lineText));
    } catch {
      errors.push({ line: i + 1, reason: 'malformed JSON' });
    }
  });
  return { records, errors };
}

function distinctPartitionValues(schema: DatasetSchema, rows: readonly Row[]): CellValue[] {
  const values = rows.map((row) => row[schema.partitionColumn]!);
  const sorted = values.sort(compareValues);
  return sorted.filter((value, i) => i === 0 || compareValues(sorted[i - 1]!, value) !== 0);
}
