import { DependencyUnavailable } from '#errors';
import type { TableGateway, WriteRequest } from '#control/table-gateway';

/**
 * BatchWriteItem in chunks of 25 with bounded parallelism. `UnprocessedItems` (throttling,
 * partition limits) are retried with exponential backoff and full jitter, a bounded number of
 * times, then the write fails with a clear error rather than silently dropping rows.
 */

export type { WriteRequest } from '#control/table-gateway';

export interface BatchWriteOptions {
  /** Parallel BatchWriteItem calls (default 4). */
  readonly concurrency?: number;
  /** Attempts per chunk before giving up (default 10). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  /** Called after every chunk (e.g. to renew an import lock). */
  readonly onChunk?: () => Promise<void>;
}

/** Writes every request; returns how many retries `UnprocessedItems` needed. */
export async function batchWriteAll(
  table: TableGateway,
  requests: readonly WriteRequest[],
  options: BatchWriteOptions = {},
): Promise<{ retries: number }> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  let retries = 0;
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      retries += await writeChunk(table, chunk, options);
      await options.onChunk?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, chunks.length) }, worker));
  return { retries };
}

async function writeChunk(table: TableGateway, chunk: WriteRequest[], options: BatchWriteOptions): Promise<number> {
  const maxAttempts = options.maxAttempts ?? 10;
  const baseDelayMs = options.baseDelayMs ?? 50;
  let pending: WriteRequest[] = chunk;
  for (let attempt = 0; ; attempt++) {
    const unprocessed = await table.batchWrite(pending);
    if (unprocessed.length === 0) return attempt;
    if (attempt + 1 >= maxAttempts) {
      throw new DependencyUnavailable({
        cause: new Error(
          `${unprocessed.length} item(s) still unprocessed after ${maxAttempts} BatchWriteItem attempts`,
        ),
      });
    }
    pending = unprocessed;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(5000, baseDelayMs * 2 ** attempt)));
  }
}

/**
 * Deletes every item of the given partition keys (all rows of a dataset version): Query each
 * partition for its keys only, then BatchWrite deletes. Returns the number of items deleted.
 */
export async function deletePartitions(
  table: TableGateway,
  partitionKeys: readonly string[],
  options: BatchWriteOptions = {},
): Promise<number> {
  let deleted = 0;
  for (const partitionKey of partitionKeys) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await table.query({
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#pk, #sk',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': partitionKey },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      const keys: WriteRequest[] = (page.Items ?? []).map((item) => ({
        DeleteRequest: { Key: { pk: item.pk, sk: item.sk } },
      }));
      await batchWriteAll(table, keys, options);
      deleted += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return deleted;
}
