import { ValidationFailed } from '#errors';

/** Monotonic-enough clock seam so tests can freeze time. */
export type Clock = () => number;

/** Opaque pagination cursor: base64url of the LastEvaluatedKey (string attributes only). */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor and checks that it points inside the partition the caller may read, so a
 * crafted cursor cannot move a query into another tenant's partition.
 */
export function decodeCursor(cursor: string, expectedPk: string, field = 'cursor'): Record<string, string> {
  let parsed: unknown;
  try {
    if (cursor.length > 2048) throw new Error('too long');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationFailed(field, 'is not a valid cursor');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationFailed(field, 'is not a valid cursor');
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  const valid =
    entries.length <= 4 &&
    entries.every(([, value]) => typeof value === 'string' && value.length <= 1024) &&
    (parsed as Record<string, unknown>).pk === expectedPk;
  if (!valid) throw new ValidationFailed(field, 'is not a valid cursor');
  return parsed as Record<string, string>;
}

/** Epoch seconds of a millisecond timestamp, the unit DynamoDB TTL expects. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
