import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DependencyUnavailable, ValidationFailed } from '#errors';

/** What every control repository is built from; handlers create it once at cold start. */
export interface TableRef {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Monotonic-enough clock seam so tests can freeze time. */
export type Clock = () => number;

/** True when a conditional write lost (the SDK surfaces it under two shapes depending on the path). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { name?: string }).name === 'ConditionalCheckFailedException')
  );
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with full jitter, capped; `attempt` starts at 0. */
export function backoffMs(attempt: number, baseMs = 25, capMs = 2000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * Reads up to 100 keys of one table with BatchGetItem, retrying `UnprocessedKeys` with backoff.
 * Returns the items found (order not guaranteed).
 */
export async function batchGetAll(
  table: TableRef,
  keys: ReadonlyArray<Record<string, string>>,
  options: { consistentRead?: boolean; maxAttempts?: number } = {},
): Promise<Record<string, unknown>[]> {
  if (keys.length === 0) return [];
  if (keys.length > 100) throw new RangeError('batchGetAll accepts at most 100 keys');
  const maxAttempts = options.maxAttempts ?? 8;
  const found: Record<string, unknown>[] = [];
  let pending: Record<string, unknown>[] = [...keys];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= maxAttempts) throw new DependencyUnavailable();
    if (attempt > 0) await sleep(backoffMs(attempt));
    const result = await table.client.send(
      new BatchGetCommand({
        RequestItems: { [table.tableName]: { Keys: pending, ConsistentRead: options.consistentRead ?? false } },
      }),
    );
    found.push(...((result.Responses?.[table.tableName] ?? []) as Record<string, unknown>[]));
    pending = (result.UnprocessedKeys?.[table.tableName]?.Keys ?? []) as Record<string, unknown>[];
  }
  return found;
}

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

/**
 * Every item of one partition whose sort key starts with `prefix`, following pagination to the
 * end (with `limit` as a safety bound). The building block of the repositories' `list` methods.
 */
export async function queryAllByPrefix(
  table: TableRef,
  pk: string,
  prefix: string,
  options: { limit?: number } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < (options.limit ?? Number.POSITIVE_INFINITY));
  return items;
}
