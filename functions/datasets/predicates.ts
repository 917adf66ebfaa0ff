import type { ColumnType } from './schema.ts';
import { type CellValue, compareValues } from './values.ts';

/**
 * Normalised filter predicates. Every filter op (and every RLS grant) becomes one of two
 * shapes, which the compiler can reason about (intersect, enumerate, push into key conditions)
 * and which the executor can re-check in memory:
 * - `ranges`: the value lies in at least one inclusive range (a point is `[v, v]`);
 * - `prefix`: the string value begins with `prefix`.
 * A row missing the column never matches (as in DynamoDB, where comparisons on a missing
 * attribute are false).
 */

export interface ValueRange {
  readonly lower?: CellValue;
  readonly upper?: CellValue;
}

export type Predicate =
  | { readonly column: string; readonly kind: 'ranges'; readonly ranges: readonly ValueRange[]; readonly rls?: boolean }
  | { readonly column: string; readonly kind: 'prefix'; readonly prefix: string; readonly rls?: boolean };

/** True when the value satisfies the predicate. */
export function matchesPredicate(predicate: Predicate, value: CellValue | null | undefined): boolean {
  if (value === undefined || value === null) return false;
  if (predicate.kind === 'prefix') return typeof value === 'string' && value.startsWith(predicate.prefix);
  return predicate.ranges.some((range) => inRange(range, value));
}

/** True when `value` lies in the inclusive range. */
export function inRange(range: ValueRange, value: CellValue): boolean {
  if (range.lower !== undefined && compareValues(value, range.lower) < 0) return false;
  if (range.upper !== undefined && compareValues(value, range.upper) > 0) return false;
  return true;
}

/** True when the range is a single value. */
export function isPoint(range: ValueRange): boolean {
  return range.lower !== undefined && range.upper !== undefined && compareValues(range.lower, range.upper) === 0;
}

/** The finite set of values a predicate admits, or undefined when it admits a continuum. */
export function pointsOf(predicate: Predicate): CellValue[] | undefined {
  if (predicate.kind !== 'ranges' || !predicate.ranges.every(isPoint)) return undefined;
  return predicate.ranges.map((range) => range.lower!);
}

/** Intersection of single ranges; undefined when it is empty. */
export function intersectRanges(a: ValueRange, b: ValueRange): ValueRange | undefined {
  const lower =
    a.lower === undefined
      ? b.lower
      : b.lower === undefined
        ? a.lower
        : compareValues(a.lower, b.lower) >= 0
          ? a.lower
          : b.lower;
  const upper =
    a.upper === undefined
      ? b.upper
      : b.upper === undefined
        ? a.upper
        : compareValues(a.upper, b.upper) <= 0
          ? a.upper
          : b.upper;
  if (lower !== undefined && upper !== undefined && compareValues(lower, upper) > 0) return undefined;
  return { ...(lower !== undefined ? { lower } : {}), ...(upper !== undefined ? { upper } : {}) };
}

/** Removes duplicate values of a list by their typed order. */
export function uniqueValues(values: readonly CellValue[]): CellValue[] {
  const sorted = [...values].sort(compareValues);
  return sorted.filter((value, i) => i === 0 || compareValues(sorted[i - 1]!, value) !== 0);
}

/** Column types never change between compile and execute; this records them for the residual check. */
export type ColumnTypes = Readonly<Record<string, ColumnType>>;
