import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { Conflict, DependencyUnavailable, EmbedError, InternalError } from '#errors';
import { isTransientAwsError } from '#shared/clients';

/** An item as the document client returns it. */
export type Item = Record<string, unknown>;

/** What a conditional write's caller wants thrown when the condition fails: its own domain conflict. */
export type ConflictMapper = () => Error;

/** One request of a BatchWriteItem call. */
export type WriteRequest =
  | { readonly PutRequest: { readonly Item: Item } }
  | { readonly DeleteRequest: { readonly Key: Item } };

type WithoutTable<T> = Omit<T, 'TableName'>;

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with full jitter, capped; `attempt` starts at 0. */
export function backoffMs(attempt: number, baseMs = 25, capMs = 2000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/** True when a conditional write lost (the SDK surfaces it under two shapes depending on the path). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}

/**
 * The one place that sends DynamoDB commands, for the control table and (through the tenant-scoped
 * clients) the data table, and the one place where SDK failures become domain errors:
 * - throttling, capacity, request-limit, 5xx, the clients' timeouts and connection errors →
 *   `DependencyUnavailable` (503 with `Retry-After`);
 * - a failed condition → the conflict the caller names (its domain meaning), or `Conflict`;
 * - an `EmbedError` raised on the way (e.g. STS refusing the tenant role inside the credential
 *   provider is already `DependencyUnavailable`) passes through;
 * - anything else (a malformed request, a missing table, access denied) is a defect or a
 *   misconfiguration: `InternalError` (500), with the SDK error as `cause` for the log.
 * Every method fixes the table name, so a repository cannot address another table.
 */
export class TableGateway {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** GetItem; undefined when there is no such item. */
  async get(input: WithoutTable<GetCommandInput>): Promise<Item | undefined> {
    const result = await this.#send(() => this.client.send(new GetCommand({ ...input, TableName: this.tableName })));
    return result.Item;
  }

  /** PutItem; a failed `ConditionExpression` throws what `onConditionFailed` returns. */
  async put(input: WithoutTable<PutCommandInput>, onConditionFailed?: ConflictMapper): Promise<void> {
    await this.#send(
      () => this.client.send(new PutCommand({ ...input, TableName: this.tableName })),
      onConditionFailed,
    );
  }

  /** UpdateItem; returns `Attributes` when `ReturnValues` asks for them. */
  async update(input: WithoutTable<UpdateCommandInput>, onConditionFailed?: ConflictMapper): Promise<Item | undefined> {
    const result = await this.#send(
      () => this.client.send(new UpdateCommand({ ...input, TableName: this.tableName })),
      onConditionFailed,
    );
    return result.Attributes;
  }

  /** DeleteItem. */
  async delete(input: WithoutTable<DeleteCommandInput>, onConditionFailed?: ConflictMapper): Promise<void> {
    await this.#send(
      () => this.client.send(new DeleteCommand({ ...input, TableName: this.tableName })),
      onConditionFailed,
    );
  }

  /** One page of a Query. */
  async query(input: WithoutTable<QueryCommandInput>): Promise<QueryCommandOutput> {
    return this.#send(() => this.client.send(new QueryCommand({ ...input, TableName: this.tableName })));
  }

  /**
   * Every item of one partition whose sort key starts with `prefix`, following pagination to the
   * end (with `limit` as a safety bound). The building block of the repositories' `list` methods.
   */
  async queryAllByPrefix(pk: string, prefix: string, options: { limit?: number } = {}): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      items.push(...((page.Items ?? []) as Item[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < (options.limit ?? Number.POSITIVE_INFINITY));
    return items;
  }

  /**
   * Reads up to 100 keys with BatchGetItem, retrying `UnprocessedKeys` with backoff; past
   * `maxAttempts` the read is `DependencyUnavailable`. Returns the items found (order not guaranteed).
   */
  async batchGet(
    keys: ReadonlyArray<Item>,
    options: { consistentRead?: boolean; maxAttempts?: number } = {},
  ): Promise<Item[]> {
    if (keys.length === 0) return [];
    if (keys.length > 100) throw new RangeError('batchGet accepts at most 100 keys');
    const maxAttempts = options.maxAttempts ?? 8;
    const found: Item[] = [];
    let pending: Item[] = [...keys];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) throw new DependencyUnavailable();
      if (attempt > 0) await sleep(backoffMs(attempt));
      const result = await this.#send(() =>
        this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: options.consistentRead ?? false } },
          }),
        ),
      );
      found.push(...((result.Responses?.[this.tableName] ?? []) as Item[]));
      pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
    }
    return found;
  }

  /** One BatchWriteItem call of at most 25 requests; returns the requests DynamoDB did not process. */
  async batchWrite(requests: readonly WriteRequest[]): Promise<WriteRequest[]> {
    if (requests.length > 25) throw new RangeError('batchWrite accepts at most 25 requests');
    const result = await this.#send(() =>
      this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } })),
    );
    return (result.UnprocessedItems?.[this.tableName] ?? []) as WriteRequest[];
  }

  async #send<T>(call: () => Promise<T>, onConditionFailed?: ConflictMapper): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw mapDynamoFailure(error, onConditionFailed);
    }
  }
}

/** The mapping of one DynamoDB failure to the error the caller sees (see `TableGateway`). */
export function mapDynamoFailure(error: unknown, onConditionFailed?: ConflictMapper): Error {
  if (error instanceof EmbedError) return error;
  if (isConditionalCheckFailed(error)) {
    return onConditionFailed ? onConditionFailed() : new Conflict('The item was changed concurrently; try again.');
  }
  if (isTransientAwsError(error)) return new DependencyUnavailable({ cause: error });
  return new InternalError({ cause: error });
}
