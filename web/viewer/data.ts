/**
 * Normalises a widget result into columns and array rows, and formats values for display.
 * Rendering rules (docs/embed-protocol.md): the first column of a chart is its x axis, every
 * further numeric column is a series; a KPI shows the first numeric value of the first row.
 */
import type { ColumnSpec, WidgetResult } from './api.ts';

export interface Column {
  readonly name: string;
  readonly label: string;
  readonly type: string | undefined;
}

export interface Matrix {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly unknown[])[];
  readonly truncated: boolean;
}

/** Columns and rows in one shape, whatever row encoding the API used. */
export function toMatrix(result: WidgetResult): Matrix {
  const columns = result.columns.map(toColumn);
  const rows = result.rows.map((row) => {
    if (Array.isArray(row)) return row;
    if (typeof row === 'object' && row !== null) {
      const record = row as Record<string, unknown>;
      return columns.map((column) => record[column.name]);
    }
    return [row];
  });
  return { columns, rows, truncated: result.truncated };
}

function toColumn(spec: ColumnSpec): Column {
  if (typeof spec === 'string') return { name: spec, label: humanize(spec), type: undefined };
  return { name: spec.name, label: spec.label ?? humanize(spec.name), type: spec.type };
}

/** `order_count` / `orderCount` → `Order count`. */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A finite number from a number or numeric string, else `undefined`. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '' && /^[-+]?[\d.]+(e[-+]?\d+)?$/i.test(value.trim())) {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds of an ISO date or date-time string (dates are read as UTC days). */
export function toDateMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Whether a column holds numbers (declared type, or every present value is numeric). */
export function isNumericColumn(matrix: Matrix, index: number): boolean {
  const type = matrix.columns[index]?.type;
  if (type === 'number' || type === 'integer' || type === 'float') return true;
  if (type !== undefined) return false;
  let seen = false;
  for (const row of matrix.rows) {
    const value = row[index];
    if (value === null || value === undefined) continue;
    if (toNumber(value) === undefined) return false;
    seen = true;
  }
  return seen;
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const compactFormat = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
const shortDateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** A number for a table cell or a KPI. */
export function formatNumber(value: number): string {
  return numberFormat.format(value);
}

/** A number for an axis tick, where space is short. */
export function formatCompact(value: number): string {
  return Math.abs(value) >= 10_000 ? compactFormat.format(value) : numberFormat.format(value);
}

/** Any cell value as display text (never markup). */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return Number.isFinite(value) ? formatNumber(value) : '—';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string') {
    // Dates come back as ISO UTC; a midnight time is a plain date and is shown as one.
    const ms = MIDNIGHT_OR_DATE.test(value) ? toDateMs(value) : undefined;
    return ms === undefined ? value : dateFormat.format(ms);
  }
  return JSON.stringify(value);
}

const MIDNIGHT_OR_DATE = /^\d{4}-\d{2}-\d{2}(T00:00:00(\.0+)?Z)?$/;
const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'short', timeZone: 'UTC' });

/** Category labels for a chart axis: dates shortened, and month buckets shown as months. */
export function formatCategories(values: readonly unknown[]): string[] {
  const dates = values.map(toDateMs);
  const allMonths = values.length > 0 && dates.every((ms) => ms !== undefined && new Date(ms).getUTCDate() === 1);
  return values.map((value, i) => {
    const ms = dates[i];
    if (ms !== undefined) return (allMonths ? monthFormat : shortDateFormat).format(ms);
    return value === null || value === undefined ? '—' : String(value);
  });
}
