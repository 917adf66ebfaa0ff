import { QueryInvalid } from '#errors';
import type { ParameterDefinition, ParameterType } from '#token/param-types';
import type {
  DateBucket,
  FilterLiteral,
  FilterOp,
  GroupBy,
  Metric,
  MetricOp,
  OrderBy,
  ParamRef,
  Widget,
  WidgetFilter,
  WidgetQuery,
  WidgetType,
} from '#control/records';

export type {
  DateBucket,
  FilterLiteral,
  FilterOp,
  GroupBy,
  Metric,
  MetricOp,
  OrderBy,
  ParamRef,
  Widget,
  WidgetFilter,
  WidgetQuery,
  WidgetType,
} from '#control/records';
import { type ColumnType, type DatasetSchema, findColumn, isValidColumnName } from './schema.ts';
import { coerceQueryValue } from './values.ts';

/**
 * The widget and query model, and its validation against a dataset schema. Validation runs at
 * dashboard save time and again at compile time, so a schema change can never turn a stored
 * widget into an unchecked query.
 */

export const WIDGET_TYPES: readonly WidgetType[] = ['table', 'number', 'bar', 'line'];
export const FILTER_OPS: readonly FilterOp[] = ['eq', 'in', 'between', 'gte', 'lte', 'begins_with'];
export const METRIC_OPS: readonly MetricOp[] = ['count', 'sum', 'avg', 'min', 'max'];
export const DATE_BUCKETS: readonly DateBucket[] = ['day', 'week', 'month'];

export const MAX_FILTERS = 50;
export const MAX_IN_VALUES = 100;
export const MAX_GROUP_BY = 3;
export const MAX_METRICS = 10;
export const MAX_LIMIT = 10_000;
const WIDGET_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Which parameter types a filter op accepts (`dateRange → between`, `stringList → in`). */
const PARAM_TYPES_BY_OP: Record<FilterOp, readonly ParameterType[]> = {
  eq: ['string', 'number', 'boolean', 'date'],
  in: ['stringList', 'string', 'number', 'boolean', 'date'],
  between: ['dateRange'],
  gte: ['string', 'number', 'date'],
  lte: ['string', 'number', 'date'],
  begins_with: ['string'],
};

const OPS_BY_COLUMN_TYPE: Record<ColumnType, readonly FilterOp[]> = {
  string: ['eq', 'in', 'between', 'gte', 'lte', 'begins_with'],
  number: ['eq', 'in', 'between', 'gte', 'lte'],
  date: ['eq', 'in', 'between', 'gte', 'lte'],
  boolean: ['eq', 'in'],
};

/** The output name of a metric. */
export function metricName(metric: Metric): string {
  return metric.as ?? (metric.column ? `${metric.op}_${metric.column}` : metric.op);
}

/** True when a filter value is a parameter reference. */
export function isParamRef(value: unknown): value is ParamRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'param' in value;
}

/**
 * Validates an untrusted widget (shape, type-specific rules) and its query against the schema
 * and the dashboard's parameter definitions. Throws `QueryInvalid` naming the column, op or
 * parameter; returns the widget unchanged when valid.
 */
export function validateWidget(
  input: unknown,
  schema: DatasetSchema,
  parameters: readonly ParameterDefinition[] = [],
): Widget {
  if (!isRecord(input)) throw new QueryInvalid('a widget must be an object');
  const { id, type, title, datasetId, query } = input;
  if (typeof id !== 'string' || !WIDGET_ID_PATTERN.test(id)) throw new QueryInvalid('the widget id is invalid');
  try {
    return validateWidgetShape(id, type, title, datasetId, query, schema, parameters);
  } catch (error) {
    throw error instanceof QueryInvalid ? error.forWidget(id) : error;
  }
}

function validateWidgetShape(
  id: string,
  type: unknown,
  title: unknown,
  datasetId: unknown,
  query: unknown,
  schema: DatasetSchema,
  parameters: readonly ParameterDefinition[],
): Widget {
  if (typeof type !== 'string' || !WIDGET_TYPES.includes(type as WidgetType)) {
    throw new QueryInvalid('unknown widget type', { widget: id });
  }
  if (typeof title !== 'string' || title.length > 200) {
    throw new QueryInvalid('the widget title must be a string of at most 200 characters', { widget: id });
  }
  if (typeof datasetId !== 'string' || !WIDGET_ID_PATTERN.test(datasetId)) {
    throw new QueryInvalid('the widget dataset id is invalid', { widget: id });
  }
  const validQuery = validateWidgetQuery(query, schema, parameters);
  const hasMetrics = (validQuery.metrics?.length ?? 0) > 0;
  const hasGroups = (validQuery.groupBy?.length ?? 0) > 0;
  if (type === 'number' && (!hasMetrics || hasGroups)) {
    throw new QueryInvalid('a number widget needs metrics and no group by', { widget: id });
  }
  if ((type === 'bar' || type === 'line') && (!hasMetrics || !hasGroups)) {
    throw new QueryInvalid(`a ${type} widget needs a group by and metrics`, { widget: id });
  }
  return { id, type: type as WidgetType, title, datasetId, query: validQuery };
}

/**
 * Validates a query against the schema (every name must be a declared column, every op must
 * suit the column type) and, when parameters are given, every `{ param }` reference against
 * them. Returns the query as a typed value.
 */
export function validateWidgetQuery(
  input: unknown,
  schema: DatasetSchema,
  parameters?: readonly ParameterDefinition[],
): WidgetQuery {
  if (!isRecord(input)) throw new QueryInvalid('the query must be an object');
  const allowedKeys = new Set(['filters', 'groupBy', 'metrics', 'orderBy', 'limit', 'columns']);
  for (const key of Object.keys(input)) {
    if (!allowedKeys.has(key)) throw new QueryInvalid('unknown query field', { field: key.slice(0, 40) });
  }
  const filters = listOf(input.filters, 'filters', MAX_FILTERS).map((raw) => validateFilter(raw, schema, parameters));
  const groupBy = listOf(input.groupBy, 'groupBy', MAX_GROUP_BY).map((raw) => validateGroupBy(raw, schema));
  const metrics = listOf(input.metrics, 'metrics', MAX_METRICS).map((raw) => validateMetric(raw, schema));
  const outputNames = new Set(groupBy.map((g) => g.column));
  if (outputNames.size !== groupBy.length) throw new QueryInvalid('a column is grouped twice');
  for (const metric of metrics) {
    const name = metricName(metric);
    if (outputNames.has(name)) throw new QueryInvalid('duplicate output name', { column: name });
    outputNames.add(name);
  }
  const aggregate = groupBy.length > 0 || metrics.length > 0;
  let columns: string[] | undefined;
  if (input.columns !== undefined) {
    if (aggregate) throw new QueryInvalid('columns applies only to plain-row queries');
    columns = listOf(input.columns, 'columns', schema.columns.length).map((name) => {
      requireColumn(schema, name);
      return name as string;
    });
  }
  const sortable = aggregate ? outputNames : new Set(schema.columns.map((c) => c.name));
  const orderBy = listOf(input.orderBy, 'orderBy', 5).map((raw): OrderBy => {
    if (!isRecord(raw) || typeof raw.key !== 'string' || !sortable.has(raw.key)) {
      throw new QueryInvalid('orderBy must name an output column', {
        column: isRecord(raw) ? String(raw.key).slice(0, 80) : undefined,
      });
    }
    if (raw.direction !== undefined && raw.direction !== 'asc' && raw.direction !== 'desc') {
      throw new QueryInvalid('orderBy direction must be asc or desc', { column: raw.key });
    }
    return { key: raw.key, ...(raw.direction ? { direction: raw.direction } : {}) };
  });
  let limit: number | undefined;
  if (input.limit !== undefined) {
    if (
      typeof input.limit !== 'number' ||
      !Number.isInteger(input.limit) ||
      input.limit < 1 ||
      input.limit > MAX_LIMIT
    ) {
      throw new QueryInvalid(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    limit = input.limit;
  }
  return {
    ...(filters.length ? { filters } : {}),
    ...(groupBy.length ? { groupBy } : {}),
    ...(metrics.length ? { metrics } : {}),
    ...(orderBy.length ? { orderBy } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(columns ? { columns } : {}),
  };
}

function validateFilter(
  raw: unknown,
  schema: DatasetSchema,
  parameters: readonly ParameterDefinition[] | undefined,
): WidgetFilter {
  if (!isRecord(raw)) throw new QueryInvalid('every filter must be an object');
  const column = requireColumn(schema, raw.column);
  const op = raw.op;
  if (typeof op !== 'string' || !FILTER_OPS.includes(op as FilterOp)) {
    throw new QueryInvalid('unknown filter operator', { column: column.name, op: String(op).slice(0, 40) });
  }
  const filterOp = op as FilterOp;
  if (!OPS_BY_COLUMN_TYPE[column.type].includes(filterOp)) {
    throw new QueryInvalid(`operator ${filterOp} does not apply to a ${column.type} column`, {
      column: column.name,
      op: filterOp,
    });
  }
  if (isParamRef(raw.value)) {
    if (raw.values !== undefined)
      throw new QueryInvalid('a filter takes value or values, not both', { column: column.name });
    const name = raw.value.param;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new QueryInvalid('invalid parameter reference', { column: column.name });
    }
    if (parameters) {
      const definition = parameters.find((p) => p.name === name);
      if (!definition) throw new QueryInvalid('the filter references an undeclared parameter', { param: name });
      if (!PARAM_TYPES_BY_OP[filterOp].includes(definition.type)) {
        throw new QueryInvalid(`a ${definition.type} parameter cannot drive operator ${filterOp}`, {
          param: name,
          column: column.name,
          op: filterOp,
        });
      }
    }
    return { column: column.name, op: filterOp, value: { param: name } };
  }
  if (filterOp === 'in' || filterOp === 'between') {
    const values = raw.values;
    const count = filterOp === 'between' ? 2 : undefined;
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.length > MAX_IN_VALUES ||
      (count !== undefined && values.length !== count)
    ) {
      throw new QueryInvalid(
        filterOp === 'between' ? 'between takes values: [from, to]' : `in takes 1 to ${MAX_IN_VALUES} values`,
        { column: column.name, op: filterOp },
      );
    }
    for (const value of values) assertLiteral(column.type, value, column.name, filterOp);
    return { column: column.name, op: filterOp, values: values as FilterLiteral[] };
  }
  assertLiteral(column.type, raw.value, column.name, filterOp);
  return { column: column.name, op: filterOp, value: raw.value as FilterLiteral };
}

function assertLiteral(type: ColumnType, value: unknown, column: string, op: FilterOp): void {
  const literal = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  if (!literal || coerceQueryValue(type, value) === undefined || (typeof value === 'string' && value.length > 1024)) {
    throw new QueryInvalid(`the value is not a valid ${type}`, { column, op });
  }
}

function validateGroupBy(raw: unknown, schema: DatasetSchema): GroupBy {
  if (!isRecord(raw)) throw new QueryInvalid('every groupBy entry must be an object');
  const column = requireColumn(schema, raw.column);
  if (raw.bucket === undefined) return { column: column.name };
  if (column.type !== 'date' || !DATE_BUCKETS.includes(raw.bucket as DateBucket)) {
    throw new QueryInvalid('date buckets (day, week, month) apply only to date columns', { column: column.name });
  }
  return { column: column.name, bucket: raw.bucket as DateBucket };
}

function validateMetric(raw: unknown, schema: DatasetSchema): Metric {
  if (!isRecord(raw) || typeof raw.op !== 'string' || !METRIC_OPS.includes(raw.op as MetricOp)) {
    throw new QueryInvalid('unknown metric', { op: isRecord(raw) ? String(raw.op).slice(0, 40) : undefined });
  }
  const op = raw.op as MetricOp;
  let column: string | undefined;
  if (raw.column !== undefined) {
    const definition = requireColumn(schema, raw.column);
    const numeric = definition.type === 'number';
    if ((op === 'sum' || op === 'avg') && !numeric) {
      throw new QueryInvalid(`${op} needs a number column`, { column: definition.name, op });
    }
    if ((op === 'min' || op === 'max') && definition.type !== 'number' && definition.type !== 'date') {
      throw new QueryInvalid(`${op} needs a number or date column`, { column: definition.name, op });
    }
    column = definition.name;
  } else if (op !== 'count') {
    throw new QueryInvalid(`${op} needs a column`, { op });
  }
  if (raw.as !== undefined && !isValidColumnName(raw.as)) {
    throw new QueryInvalid('a metric output name is invalid', { op });
  }
  return { op, ...(column ? { column } : {}), ...(raw.as !== undefined ? { as: raw.as as string } : {}) };
}

function requireColumn(schema: DatasetSchema, name: unknown) {
  const column = typeof name === 'string' ? findColumn(schema, name) : undefined;
  if (!column) {
    // The refused name is echoed only truncated: it is caller input.
    throw new QueryInvalid('unknown column', { column: String(name).slice(0, 80) });
  }
  return column;
}

function listOf(value: unknown, field: string, max: number): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > max) {
    throw new QueryInvalid(`${field} must be a list of at most ${max} entries`);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
