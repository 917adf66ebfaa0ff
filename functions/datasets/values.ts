import type { CellValue, ColumnType } from '#control/records';

/**
 * Typed cell values: parsing from import sources, coercion of query literals, ordering, and
 * the order-preserving string encoding used inside DynamoDB keys.
 */

export type { CellValue } from '#control/records';

export type ParseResult = { ok: true; value: CellValue | null } | { ok: false; reason: string };

const NUMBER_SYNTAX = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses one import cell. CSV cells arrive as strings (empty = missing); JSON cells may also be
 * numbers, booleans or null. Returns a reason a person can act on when the cell is invalid.
 */
export function parseCell(type: ColumnType, raw: unknown): ParseResult {
  if (raw === undefined || raw === null || raw === '') return { ok: true, value: null };
  switch (type) {
    case 'string':
      if (typeof raw === 'string') return { ok: true, value: raw };
      if (typeof raw === 'number' && Number.isFinite(raw)) return { ok: true, value: String(raw) };
      return { ok: false, reason: 'expected a string' };
    case 'number': {
      if (typeof raw === 'number') {
        return Number.isFinite(raw)
          ? { ok: true, value: normaliseZero(raw) }
          : { ok: false, reason: 'expected a finite number' };
      }
      if (typeof raw === 'string' && NUMBER_SYNTAX.test(raw.trim())) {
        const value = Number(raw.trim());
        if (Number.isFinite(value)) return { ok: true, value: normaliseZero(value) };
      }
      return { ok: false, reason: 'expected a finite number' };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true') return { ok: true, value: true };
      if (raw === 'false') return { ok: true, value: false };
      return { ok: false, reason: 'expected true or false' };
    case 'date': {
      const iso = typeof raw === 'string' ? normaliseDate(raw) : undefined;
      return iso ? { ok: true, value: iso } : { ok: false, reason: 'expected an ISO date or date-time' };
    }
  }
}

/** True when `raw` is a date without a time (`YYYY-MM-DD`); query literals of that form mean the whole UTC day. */
export function isDateOnly(raw: unknown): boolean {
  return typeof raw === 'string' && DATE_ONLY.test(raw.trim());
}

/**
 * Normalises an ISO date or date-time to `YYYY-MM-DDTHH:mm:ss.sssZ` (UTC); a date-time without
 * an offset is read as UTC. Years outside 100–9999 are refused so the string order stays the
 * time order.
 */
export function normaliseDate(raw: string): string | undefined {
  const text = raw.trim();
  const dateOnly = DATE_ONLY.exec(text);
  let ms: number;
  if (dateOnly) {
    ms = Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]));
    if (!sameCalendarDay(ms, dateOnly)) return undefined;
  } else {
    const match = DATE_TIME.exec(text);
    if (!match) return undefined;
    const zone = match[9];
    const offset =
      !zone || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const fraction = match[8] ? match[8].slice(0, 4) : '';
    ms = Date.parse(
      `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[7] ?? '00'}${fraction}${offset}`,
    );
    if (!Number.isFinite(ms)) return undefined;
    if (!sameCalendarDay(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])), match)) return undefined;
    if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[7] ?? 0) > 59) return undefined;
  }
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (year < 100 || year > 9999) return undefined;
  return date.toISOString();
}

/** The first and last millisecond of the UTC day of a normalised date. */
export function utcDayBounds(iso: string): { start: string; end: string } {
  const day = iso.slice(0, 10);
  return { start: `${day}T00:00:00.000Z`, end: `${day}T23:59:59.999Z` };
}

/**
 * Coerces a query literal (from a widget, a parameter or an RLS grant, where everything may be
 * a string) to the column's type. Returns undefined when it cannot be a value of that column.
 */
export function coerceQueryValue(type: ColumnType, raw: unknown): CellValue | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  if (type === 'string') return typeof raw === 'string' ? raw : undefined;
  if (type === 'boolean' && typeof raw === 'string' && raw !== 'true' && raw !== 'false') return undefined;
  const parsed = parseCell(type, raw);
  return parsed.ok && parsed.value !== null ? parsed.value : undefined;
}

/**
 * Total order of values of one type, matching DynamoDB's order for its native types: numbers
 * numerically, strings by Unicode code point (= UTF-8 byte order), dates as their ISO strings,
 * and `false < true`.
 */
export function compareValues(a: CellValue, b: CellValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  return compareCodePoints(String(a), String(b));
}

/** Compares strings by code point, which is the UTF-8 byte order DynamoDB uses for keys. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/**
 * Order-preserving encoding of a key value, so that DynamoDB's byte order on the encoded strings
 * equals the value order and a `#` appended after a value sorts before any longer value:
 * - numbers: IEEE-754 bits made unsigned-sortable, as 16 hex digits;
 * - dates: the normalised ISO string (fixed width);
 * - booleans: `0` / `1`;
 * - strings: code points ≤ U+0024 (`$`) are escaped as `$` + (0x40 + code point), so every
 *   encoded character is ≥ `$` and the `#` separator sorts below all of them.
 */
export function encodeKeyValue(type: ColumnType, value: CellValue): string {
  switch (type) {
    case 'number': {
      const buffer = Buffer.alloc(8);
      buffer.writeDoubleBE(normaliseZero(value as number));
      if ((buffer[0]! & 0x80) !== 0) {
        for (let i = 0; i < 8; i++) buffer[i] = ~buffer[i]! & 0xff;
      } else {
        buffer[0] = buffer[0]! ^ 0x80;
      }
      return buffer.toString('hex');
    }
    case 'boolean':
      return value ? '1' : '0';
    case 'date':
      return String(value);
    case 'string':
      return escapeKeyString(String(value));
  }
}

/** Inverse of `encodeKeyValue`. */
export function decodeKeyValue(type: ColumnType, encoded: string): CellValue {
  switch (type) {
    case 'number': {
      const buffer = Buffer.from(encoded, 'hex');
      if ((buffer[0]! & 0x80) !== 0) {
        buffer[0] = buffer[0]! ^ 0x80;
      } else {
        for (let i = 0; i < 8; i++) buffer[i] = ~buffer[i]! & 0xff;
      }
      return buffer.readDoubleBE();
    }
    case 'boolean':
      return encoded === '1';
    case 'date':
      return encoded;
    case 'string':
      return encoded.replace(/\$([\u0040-\u0064])/g, (_, c: string) => String.fromCharCode(c.charCodeAt(0) - 0x40));
  }
}

function escapeKeyString(value: string): string {
  let encoded = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    encoded += code <= 0x24 ? `$${String.fromCharCode(0x40 + code)}` : char;
  }
  return encoded;
}

function normaliseZero(value: number): number {
  return value === 0 ? 0 : value;
}

function sameCalendarDay(ms: number, match: RegExpExecArray): boolean {
  const date = new Date(ms);
  return (
    date.getUTCFullYear() === Number(match[1]) &&
    date.getUTCMonth() + 1 === Number(match[2]) &&
    date.getUTCDate() === Number(match[3])
  );
}
