import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbedTokenAlreadyRedeemed, EmbedTokenRevoked } from '#errors';
import { TableGateway, mapDynamoFailure } from '#control/table-gateway';
import { createTestTables, type TestTables } from '../datasets/fixtures.ts';

/** A gateway whose every call fails with `error`, as the SDK would throw it. */
function failingGateway(error: unknown): TableGateway {
  const client = { send: async () => Promise.reject(error) } as unknown as DynamoDBDocumentClient;
  return new TableGateway(client, 'any-table');
}

/** An SDK service error as the SDK builds it: a name, an HTTP status, sometimes a retryable flag. */
function serviceError(name: string, status: number, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $fault: 'server', ...extra });
}

const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('TableGateway maps every DynamoDB failure once', () => {
  it.each([
    ['throttling', new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} })],
    ['ThrottlingException', serviceError('ThrottlingException', 400)],
    ['RequestLimitExceeded', serviceError('RequestLimitExceeded', 400)],
    ['InternalServerError', serviceError('InternalServerError', 500)],
    ['an unnamed 503', serviceError('UnknownError', 503)],
    ['the SDK request timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    ['connection refused', networkError('ECONNREFUSED')],
    ['connection reset', networkError('ECONNRESET')],
    ['a DNS failure', networkError('EAI_AGAIN')],
    ['an aggregate connect failure', Object.assign(new AggregateError([networkError('ECONNREFUSED')], 'all failed'))],
  ])('%s → 503 DEPENDENCY_UNAVAILABLE, the SDK error kept as the cause', async (_what, error) => {
    // Act
    const outcome = failingGateway(error).get({ Key: { pk: 'a', sk: 'b' } });
    // Assess
    await expect(outcome).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503, retryAfterSeconds: 2 });
    await outcome.catch((thrown: Error) => expect(thrown.cause).toBe(error));
  });

  it.each([
    ['a malformed request', serviceError('ValidationException', 400)],
    ['a missing table', serviceError('ResourceNotFoundException', 400)],
    ['access denied', serviceError('AccessDeniedException', 400)],
    ['a programming error', new TypeError('x is undefined')],
  ])('%s → 500 INTERNAL_ERROR (a defect, not an outage)', async (_what, error) => {
    await expect(failingGateway(error).query({ KeyConditionExpression: 'pk = :pk' })).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
      status: 500,
    });
  });

  it("a failed condition becomes the caller's own conflict, or CONFLICT when it names none", () => {
    const failed = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    expect(mapDynamoFailure(failed, () => new EmbedTokenAlreadyRedeemed())).toBeInstanceOf(EmbedTokenAlreadyRedeemed);
    expect(mapDynamoFailure(failed)).toMatchObject({ code: 'CONFLICT', status: 409 });
  });

  it('a domain error raised on the way (e.g. by the tenant credential provider) passes through unchanged', () => {
    const revoked = new EmbedTokenRevoked();
    expect(mapDynamoFailure(revoked)).toBe(revoked);
  });
});

describe('TableGateway on DynamoDB Local', () => {
  let tables: TestTables;
  beforeAll(async () => {
    tables = await createTestTables('gateway');
  });

  it('a conditional put that loses answers with the conflict the repository named', async () => {
    // Prepare
    const item = { pk: 'GATEWAY#1', sk: 'ITEM', value: 1 };
    await tables.control.put({ Item: item, ConditionExpression: 'attribute_not_exists(pk)' });
    // Act
    const second = tables.control.put(
      { Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
      () => new EmbedTokenAlreadyRedeemed(),
    );
    // Assess
    await expect(second).rejects.toMatchObject({ code: 'EMBED_TOKEN_ALREADY_REDEEMED', status: 401 });
    expect(await tables.control.get({ Key: { pk: 'GATEWAY#1', sk: 'ITEM' } })).toEqual(item);
  });

  it('names only its own table: a request cannot address another one', async () => {
    // Act: an input that tries to name a table is overridden by the gateway's.
    await tables.control.put({ Item: { pk: 'GATEWAY#2', sk: 'ITEM' }, TableName: tables.dataTable } as never);
    // Assess
    expect(await tables.control.get({ Key: { pk: 'GATEWAY#2', sk: 'ITEM' } })).toEqual({ pk: 'GATEWAY#2', sk: 'ITEM' });
    expect(await tables.data.get({ Key: { pk: 'GATEWAY#2', sk: 'ITEM' } })).toBeUndefined();
  });
});
