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

/**
 * An exact running sum (Shewchuk's non-overlapping partials, as Python's `math.fsum`): the result
 * is the exact sum rounded once, whatever the order of the additions. So a sum is the same
 * whether it is read from raw rows in any partition order or merged from rollup partials.
 */
export class ExactSum {
  private partials: number[] = [];

  add(value: number): void {
    let x = value;
    let kept = 0;
    for (let y of this.partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) this.partials[kept++] = lo;
      x = hi;
    }
    this.partials.length = kept;
    this.partials.push(x);
  }

  /** Adds the partials of another exact sum (as a rollup item stores them). */
  addPartials(partials: readonly number[]): void {
    for (const partial of partials) this.add(partial);
  }

  /** The partials: their exact sum is the sum so far. */
  parts(): number[] {
    return [...this.partials];
  }

  /** The exact sum, correctly rounded. */
  value(): number {
    const partials = this.partials;
    let n = partials.length;
    if (n === 0) return 0;
    let hi = partials[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = partials[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Round half-even correctly when the remaining partials push the tie one way.
    if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}

interface Accumulator {
  count: number;
  sum: ExactSum;
  min: CellValue | null;
  max: CellValue | null;
}

/**
 * Attribute names of a rollup item's pre-aggregated measures. They start with a capital letter,
 * which no column name can (`^[a-z]…`), so they never collide with a dimension.
 */
export const ROLLUP_ROWS = 'ROWS';
export const rollupCountAttribute = (column: string) => `N_${column}`;
export const rollupSumAttribute = (column: string) => `S_${column}`;
export const rollupMinAttribute = (column: string) => `MIN_${column}`;
export const rollupMaxAttribute = (column: string) => `MAX_${column}`;

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
    const group = this.groupOf(row);
    this.metrics.forEach((metric, i) => {
      const accumulator = group.accumulators[i]!;
      if (!metric.column) {
        accumulator.count++;
        return;
      }
      const value = row[metric.column];
      if (value === undefined || value === null) return;
      accumulator.count++;
      if (typeof value === 'number') accumulator.sum.add(value);
      const cell = value as CellValue;
      if (accumulator.min === null || compareValues(cell, accumulator.min) < 0) accumulator.min = cell;
      if (accumulator.max === null || compareValues(cell, accumulator.max) > 0) accumulator.max = cell;
    });
  }

  /**
   * Adds one rollup item: the pre-aggregated measures of every row of one group of the rollup
   * (its dimension values and time bucket are the item's attributes). Merging gives exactly what
   * adding those rows one by one gives.
   */
  addPartial(item: Readonly<Record<string, unknown>>): void {
    const group = this.groupOf(item);
    this.metrics.forEach((metric, i) => {
      const accumulator = group.accumulators[i]!;
      if (!metric.column) {
        accumulator.count += (item[ROLLUP_ROWS] as number | undefined) ?? 0;
        return;
      }
      accumulator.count += (item[rollupCountAttribute(metric.column)] as number | undefined) ?? 0;
      if (metric.op === 'sum' || metric.op === 'avg') {
        accumulator.sum.addPartials((item[rollupSumAttribute(metric.column)] as number[] | undefined) ?? []);
      }
      const min = item[rollupMinAttribute(metric.column)] as CellValue | undefined;
      const max = item[rollupMaxAttribute(metric.column)] as CellValue | undefined;
      if (min !== undefined && (accumulator.min === null || compareValues(min, accumulator.min) < 0)) {
        accumulator.min = min;
      }
      if (max !== undefined && (accumulator.max === null || compareValues(max, accumulator.max) > 0)) {
        accumulator.max = max;
      }
    });
  }

  private groupOf(row: Readonly<Record<string, unknown>>): { keys: OutputValue[]; accumulators: Accumulator[] } {
    const keys = this.groupBy.map((group) => groupValue(row[group.column], group.bucket));
    const id = JSON.stringify(keys);
    let group = this.groups.get(id);
    if (!group) {
      if (this.groups.size >= this.maxGroups) throw new TooManyGroups();
      group = {
        keys,
        accumulators: this.metrics.map(() => ({ count: 0, sum: new ExactSum(), min: null, max: null })),
      };
      this.groups.set(id, group);
    }
    return group;
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
      return accumulator.count === 0 ? null : accumulator.sum.value();
    case 'avg':
      return accumulator.count === 0 ? null : accumulator.sum.value() / accumulator.count;
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
  tieDirection: 'asc' | 'desc' = 'asc',
): T[] {
  const tieSign = tieDirection === 'desc' ? -1 : 1;
  const keys = [
    ...orderBy.map((order) => ({ key: order.key, sign: order.direction === 'desc' ? -1 : 1 })),
    ...tieBreak.map((key) => ({ key, sign: tieSign })),
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
