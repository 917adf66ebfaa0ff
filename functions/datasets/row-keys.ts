import { createHash } from 'node:crypto';
import type { DatasetSchema } from './schema.ts';
import { findColumn } from './schema.ts';
import { type CellValue, encodeKeyValue } from './values.ts';

/**
 * Data-table key design. Every partition key (table and index) begins with the tenant id, so
 * the tenant-scoped IAM role's `dynamodb:LeadingKeys` condition can confine a reader to its tenant:
 *
 *   pk     = <tenantId>#<datasetId>#<version>#<encoded partition value>
 *   sk     = <encoded sort value>#<rowId>         (or just <rowId> without a sort column)
 *   gsiNpk = <tenantId>#<datasetId>#<version>#<encoded index partition value>
 *   gsiNsk = <encoded index sort value>#<rowId>   (or just <rowId>)
 *
 * Encoded values are order-preserving (see `encodeKeyValue`), so sort-column filters can be
 * expressed as key conditions.
 */

/** A typed row: column name → value; a missing optional value is absent. */
export type Row = Readonly<Record<string, CellValue>>;

/** Row ids use only `[0-9a-z.]`, all of which sort below `~`, the upper sentinel of key ranges. */
export const SORT_KEY_UPPER_SENTINEL = '~';

/** `<tenantId>#<datasetId>#<version>#`: the prefix every key of one dataset version begins with. */
export function versionKeyPrefix(tenantId: string, datasetId: string, version: string): string {
  return `${tenantId}#${datasetId}#${version}#`;
}

/** The table partition key for one partition value of a dataset version. */
export function dataPartitionKey(schema: DatasetSchema, prefix: string, value: CellValue): string {
  return prefix + encodeKeyValue(findColumn(schema, schema.partitionColumn)!.type, value);
}

/** The partition key of secondary index `indexNumber` (1 or 2) for one value. */
export function indexPartitionKey(
  schema: DatasetSchema,
  prefix: string,
  indexNumber: number,
  value: CellValue,
): string {
  const index = schema.indexes?.[indexNumber - 1];
  if (!index) throw new RangeError(`the schema has no index ${indexNumber}`);
  return prefix + encodeKeyValue(findColumn(schema, index.partitionColumn)!.type, value);
}

/**
 * A deterministic row id: a hash of the row's canonical content plus the occurrence number of
 * that content within the file. Identical rows stay distinct rows, and re-importing the same
 * file (in any line order) produces the same items.
 */
export function rowId(schema: DatasetSchema, row: Row, occurrence: number): string {
  return `${contentHash(schema, row)}.${occurrence.toString(36)}`;
}

/** Hash of a row's values in schema column order (missing values as null). */
export function contentHash(schema: DatasetSchema, row: Row): string {
  const canonical = JSON.stringify(schema.columns.map((column) => [column.name, row[column.name] ?? null]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** Builds the DynamoDB item of one row in one dataset version. */
export function buildRowItem(schema: DatasetSchema, prefix: string, row: Row, id: string): Record<string, unknown> {
  const item: Record<string, unknown> = {
    pk: dataPartitionKey(schema, prefix, row[schema.partitionColumn]!),
    sk: sortKeyOf(schema, schema.sortColumn, row, id),
  };
  (schema.indexes ?? []).forEach((index, i) => {
    const value = row[index.partitionColumn];
    // Rows without the index partition value are left out of the index (sparse index); the
    // compiler only uses an index when that column is constrained to concrete values.
    if (value === undefined) return;
    item[`gsi${i + 1}pk`] = indexPartitionKey(schema, prefix, i + 1, value);
    item[`gsi${i + 1}sk`] = sortKeyOf(schema, index.sortColumn, row, id);
  });
  for (const column of schema.columns) {
    const value = row[column.name];
    if (value !== undefined) item[column.name] = value;
  }
  return item;
}

function sortKeyOf(schema: DatasetSchema, sortColumn: string | undefined, row: Row, id: string): string {
  if (!sortColumn) return id;
  const type = findColumn(schema, sortColumn)!.type;
  return `${encodeKeyValue(type, row[sortColumn]!)}#${id}`;
}
