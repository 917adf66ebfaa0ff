import { DatasetSchemaInvalid } from '#errors';
import type { ColumnDefinition, ColumnType, DatasetSchema, SecondaryIndexDefinition } from '#control/records';

export type { ColumnDefinition, ColumnType, DatasetSchema, SecondaryIndexDefinition } from '#control/records';

/**
 * Dataset schemas: named, typed columns, one partition column, an optional sort column and up
 * to two secondary indexes. The schema is also the allowlist of attribute names: the query
 * compiler only ever puts a name into an expression after finding it here.
 */

export const COLUMN_TYPES: readonly ColumnType[] = ['string', 'number', 'boolean', 'date'];

/** Column names: lowercase identifiers, so they are safe in logs and CSV headers alike. */
export const COLUMN_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
/** Attribute names the data table uses itself; a column with one of these names would overwrite a key. */
const INTERNAL_ATTRIBUTE = /^(pk|sk|ttl|gsi[0-9a-z_]*)$/;
export const MAX_COLUMNS = 100;
export const MAX_INDEXES = 2;
/** Key-column strings end up inside a 2 KB partition key / 1 KB sort key. */
export const MAX_KEY_STRING_LENGTH = 512;
export const MAX_STRING_LENGTH = 100_000;

/** True when `name` is a syntactically valid, non-internal column name. */
export function isValidColumnName(name: unknown): name is string {
  return typeof name === 'string' && COLUMN_NAME_PATTERN.test(name) && !INTERNAL_ATTRIBUTE.test(name);
}

/**
 * Validates an untrusted schema document and returns a normalised, frozen copy (key columns
 * forced to `required`). Throws `DatasetSchemaInvalid` naming the offending column.
 */
export function validateDatasetSchema(input: unknown): DatasetSchema {
  if (!isRecord(input)) throw new DatasetSchemaInvalid('the schema must be an object');
  const rawColumns = input.columns;
  if (!Array.isArray(rawColumns) || rawColumns.length === 0 || rawColumns.length > MAX_COLUMNS) {
    throw new DatasetSchemaInvalid(`columns must be a list of 1 to ${MAX_COLUMNS} columns`);
  }
  const byName = new Map<string, ColumnDefinition>();
  for (const raw of rawColumns) {
    if (!isRecord(raw)) throw new DatasetSchemaInvalid('every column must be an object');
    const { name, type, required, label } = raw;
    if (!isValidColumnName(name)) {
      throw new DatasetSchemaInvalid('a column name is invalid or reserved', { column: String(name).slice(0, 80) });
    }
    if (byName.has(name)) throw new DatasetSchemaInvalid('duplicate column name', { column: name });
    if (typeof type !== 'string' || !COLUMN_TYPES.includes(type as ColumnType)) {
      throw new DatasetSchemaInvalid('unknown column type', { column: name });
    }
    if (required !== undefined && typeof required !== 'boolean') {
      throw new DatasetSchemaInvalid('required must be a boolean', { column: name });
    }
    if (label !== undefined && (typeof label !== 'string' || label.length > 200)) {
      throw new DatasetSchemaInvalid('label must be a string of at most 200 characters', { column: name });
    }
    byName.set(name, {
      name,
      type: type as ColumnType,
      ...(required ? { required: true } : {}),
      ...(label !== undefined ? { label } : {}),
    });
  }

  const keyColumns = new Set<string>();
  const partitionColumn = requireColumn(byName, input.partitionColumn, 'partitionColumn');
  keyColumns.add(partitionColumn);
  let sortColumn: string | undefined;
  if (input.sortColumn !== undefined) {
    sortColumn = requireColumn(byName, input.sortColumn, 'sortColumn');
    if (sortColumn === partitionColumn) {
      throw new DatasetSchemaInvalid('the sort column must differ from the partition column', { column: sortColumn });
    }
    keyColumns.add(sortColumn);
  }

  const indexes: SecondaryIndexDefinition[] = [];
  if (input.indexes !== undefined) {
    if (!Array.isArray(input.indexes) || input.indexes.length > MAX_INDEXES) {
      throw new DatasetSchemaInvalid(`indexes must be a list of at most ${MAX_INDEXES}`);
    }
    for (const raw of input.indexes) {
      if (!isRecord(raw)) throw new DatasetSchemaInvalid('every index must be an object');
      const indexPartition = requireColumn(byName, raw.partitionColumn, 'indexes.partitionColumn');
      let indexSort: string | undefined;
      if (raw.sortColumn !== undefined) {
        indexSort = requireColumn(byName, raw.sortColumn, 'indexes.sortColumn');
        if (indexSort === indexPartition) {
          throw new DatasetSchemaInvalid('an index sort column must differ from its partition column', {
            column: indexSort,
          });
        }
        // Rows without an index sort value would vanish from range queries on the index.
        keyColumns.add(indexSort);
      }
      indexes.push({ partitionColumn: indexPartition, ...(indexSort ? { sortColumn: indexSort } : {}) });
    }
  }

  const columns = [...byName.values()].map((column) =>
    Object.freeze(keyColumns.has(column.name) ? { ...column, required: true } : column),
  );
  return Object.freeze({
    columns: Object.freeze(columns),
    partitionColumn,
    ...(sortColumn ? { sortColumn } : {}),
    ...(indexes.length > 0 ? { indexes: Object.freeze(indexes.map((i) => Object.freeze(i))) } : {}),
  });
}

/** The column definition of `name`, or undefined when the schema has no such column. */
export function findColumn(schema: DatasetSchema, name: string): ColumnDefinition | undefined {
  return schema.columns.find((column) => column.name === name);
}

/** True when `name` is used in a table or index key (such strings are length-capped). */
export function isKeyColumn(schema: DatasetSchema, name: string): boolean {
  if (name === schema.partitionColumn || name === schema.sortColumn) return true;
  return (schema.indexes ?? []).some((index) => index.partitionColumn === name || index.sortColumn === name);
}

function requireColumn(byName: Map<string, ColumnDefinition>, value: unknown, field: string): string {
  if (typeof value !== 'string' || !byName.has(value)) {
    throw new DatasetSchemaInvalid(`${field} must name a declared column`, {
      field,
      ...(typeof value === 'string' ? { column: value.slice(0, 80) } : {}),
    });
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
