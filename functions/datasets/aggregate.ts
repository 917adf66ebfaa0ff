import type { GroupBy, Metric, OrderBy, DateBucket } from './widget.ts';
import { metricName } from './widget.ts';
import { type CellValue, compareValues } from './values.ts';

/**
 * Grouping and metrics in bounded memory: one accumulator per group, a hard cap on the number
 * of groups, never the rows themselves.
 */

export type OutputValue = CellValue | null;
export type OutputRow = Record<string, OutputValue>;

/** The start of the UTC bucket of an ISO date-time, as `YYYY-MM-DD` (weeks start on Monday, ISO 8601). */
export function bucketDate(iso: string, bucket: DateBucket): string {
  const day = iso.slice(0, 10);
  if (bucket === 'day') return day;
  if (bucket === 'month') return `${day.slice(0, 7)}-01`;
  const date = new Date(`${day}T00:00:00.000Z`);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday = 0
  date.setUTCDate(date.getUTCDate() - weekday);
  return date.toISOString().slice(0, 10);
}

interface Accumulator {
  count: number;
  sum: number;
  min: CellValue | null;
  max: CellValue | null;
}

/** Thrown internally when the number of groups exceeds the cap. */
export class TooManyGroups extends Error {}

/** Streams rows into per-group accumulators. */
export class GroupAggregator {
  private readonly groups = new Map<string, { keys: OutputValue[]; accumulators: Accumulator[] }>();

  constructor(
    private readonly groupBy: readonly GroupBy[],
    private readonly metrics: readonly Metric[],
    private readonly maxGroups: number,
  ) {}

  /** Adds one row; throws `TooManyGroups` when it would open a group beyond the cap. */
  add(row: Readonly<Record<string, unknown>>): void {
    const keys = this.groupBy.map((group) => groupValue(row[group.column], group.bucket));
    const id = JSON.stringify(keys);
    let group = this.groups.get(id);
    if (!group) {
      if (this.groups.size >= this.maxGroups) throw new TooManyGroups();
      group = { keys, accumulators: this.metrics.map(() => ({ count: 0, sum: 0, min: null, max: null })) };
      this.groups.set(id, group);
    }
    this.metrics.forEach((metric, i) => {
      const accumulator = group.accumulators[i]!;
      if (!metric.column) {
        accumulator.count++;
        return;
      }
      const value = row[metric.column];
      if (value === undefined || value === null) return;
      accumulator.count++;
      if (typeof value === 'number') accumulator.sum += value;
      const cell = value as CellValue;
      if (accumulator.min === null || compareValues(cell, accumulator.min) < 0) accumulator.min = cell;
      if (accumulator.max === null || compareValues(cell, accumulator.max) > 0) accumulator.max = cell;
    });
  }

  /**
   * The result rows. Without a group by there is always exactly one row (count 0 and null
   * metrics over no rows), as in SQL, so a KPI shows 0 rather than nothing.
   */
  rows(): OutputRow[] {
    if (this.groupBy.length === 0 && this.groups.size === 0) {
      return [Object.fromEntries(this.metrics.map((metric) => [metricName(metric), metric.op === 'count' ? 0 : null]))];
    }
    return [...this.groups.values()].map(({ keys, accumulators }) => {
      const row: OutputRow = {};
      this.groupBy.forEach((group, i) => {
        row[group.column] = keys[i]!;
      });
      this.metrics.forEach((metric, i) => {
        row[metricName(metric)] = metricValue(metric, accumulators[i]!);
      });
      return row;
    });
  }
}

function groupValue(value: unknown, bucket: DateBucket | undefined): OutputValue {
  if (value === undefined || value === null) return null;
  if (bucket && typeof value === 'string') return bucketDate(value, bucket);
  return value as CellValue;
}

function metricValue(metric: Metric, accumulator: Accumulator): OutputValue {
  switch (metric.op) {
    case 'count':
      return accumulator.count;
    case 'sum':
      return accumulator.count === 0 ? null : accumulator.sum;
    case 'avg':
      return accumulator.count === 0 ? null : accumulator.sum / accumulator.count;
    case 'min':
      return accumulator.min;
    case 'max':
      return accumulator.max;
  }
}

/**
 * Sorts output rows by the order-by keys (nulls first ascending, last descending), then by
 * every column in `tieBreak` so the result is deterministic.
 */
export function sortRows<T extends Readonly<Record<string, unknown>>>(
  rows: T[],
  orderBy: readonly OrderBy[],
  tieBreak: readonly string[],
): T[] {
  const keys = [
    ...orderBy.map((order) => ({ key: order.key, sign: order.direction === 'desc' ? -1 : 1 })),
    ...tieBreak.map((key) => ({ key, sign: 1 })),
  ];
  return rows.sort((a, b) => {
    for (const { key, sign } of keys) {
      const x = a[key] as CellValue | null | undefined;
      const y = b[key] as CellValue | null | undefined;
      const xNull = x === undefined || x === null;
      const yNull = y === undefined || y === null;
      if (xNull && yNull) continue;
      if (xNull) return -sign;
      if (yNull) return sign;
      const order = compareValues(x, y);
      if (order !== 0) return order * sign;
    }
    return 0;
  });
}
