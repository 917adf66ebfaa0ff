import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EmbedSessionInvalid, ValidationFailed } from '#errors';
import type { EffectiveParameters } from '#token/param-types';
import { type Clock, epochSeconds, isConditionalCheckFailed, type TableRef } from './dynamo.ts';
import { assertResourceId, assertTenantId, SESSION_SK, sessionPk } from './keys.ts';

/** An embed session: what one redeemed token opened, renewable with a fresh token for the same viewer. */
export interface EmbedSession {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly sub: string;
  readonly embedId: string;
  /** The token id that opened (or last renewed) the session. */
  readonly jti: string;
  /** That token's `iat` (epoch seconds): revocations "issued before T" apply to the session too. */
  readonly tokenIssuedAt: number;
  readonly lockedParams: EffectiveParameters;
  /** The viewer's current values of editable parameters. */
  readonly editableParams: EffectiveParameters;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly createdAt: string;
}

/** Who may use a session: every read and write checks all three. */
export interface SessionOwner {
  readonly tenantId: string;
  readonly sub: string;
  readonly embedId: string;
}

/** Embed sessions (`SESSION#<id>` / `SESSION`), removed by TTL after they expire. */
export class SessionRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableRef,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Creates a session with a random 192-bit id. `expiresAt` in epoch milliseconds. */
  async create(input: Omit<EmbedSession, 'sessionId' | 'createdAt'>): Promise<EmbedSession> {
    const session: EmbedSession = {
      sessionId: randomBytes(24).toString('base64url'),
      tenantId: assertTenantId(input.tenantId),
      sub: assertResourceId(input.sub, 'sub'),
      embedId: assertResourceId(input.embedId, 'embedId'),
      jti: assertResourceId(input.jti, 'jti'),
      tokenIssuedAt: epochSecondsOf(input.tokenIssuedAt),
      lockedParams: input.lockedParams,
      editableParams: input.editableParams,
      expiresAt: this.futureExpiry(input.expiresAt),
      createdAt: new Date(this.now()).toISOString(),
    };
    await this.table.client.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          pk: sessionPk(session.sessionId),
          sk: SESSION_SK,
          kind: 'session',
          ...session,
          ttl: ttlOf(session.expiresAt),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return session;
  }

  /**
   * The live session for this owner. Missing, expired, or owned by another viewer, tenant or
   * embed are indistinguishable: `EmbedSessionInvalid`.
   */
  async get(sessionId: string, owner: SessionOwner): Promise<EmbedSession> {
    if (typeof sessionId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sessionId)) throw new EmbedSessionInvalid();
    const result = await this.table.client.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: { pk: sessionPk(sessionId), sk: SESSION_SK },
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (
      !item ||
      item.tenantId !== owner.tenantId ||
      item.sub !== owner.sub ||
      item.embedId !== owner.embedId ||
      (item.expiresAt as number) <= this.now()
    ) {
      throw new EmbedSessionInvalid();
    }
    return toSession(item);
  }

  /**
   * Extends a live session with a newly redeemed token for the same viewer, tenant and embed
   * (conditional update; otherwise `EmbedSessionInvalid`). The session keeps the viewer's editable
   * state; the locked values follow the new token, which is authoritative.
   */
  async renew(
    sessionId: string,
    owner: SessionOwner,
    input: { jti: string; tokenIssuedAt: number; lockedParams: EffectiveParameters; expiresAt: number },
  ): Promise<EmbedSession> {
    const expiresAt = this.futureExpiry(input.expiresAt);
    try {
      const result = await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: sessionPk(sessionId), sk: SESSION_SK },
          UpdateExpression:
            'SET jti = :jti, tokenIssuedAt = :iat, lockedParams = :locked, expiresAt = :expiresAt, #ttl = :ttl',
          ConditionExpression: 'tenantId = :tenantId AND #sub = :sub AND embedId = :embedId AND expiresAt > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl', '#sub': 'sub' },
          ExpressionAttributeValues: {
            ':jti': assertResourceId(input.jti, 'jti'),
            ':iat': epochSecondsOf(input.tokenIssuedAt),
            ':locked': input.lockedParams,
            ':expiresAt': expiresAt,
            ':ttl': ttlOf(expiresAt),
            ':tenantId': owner.tenantId,
            ':sub': owner.sub,
            ':embedId': owner.embedId,
            ':now': this.now(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toSession(result.Attributes!);
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new EmbedSessionInvalid();
      throw error;
    }
  }

  /** Stores the viewer's editable parameter state (already validated by the parameter policy). */
  async updateEditableParams(
    sessionId: string,
    owner: SessionOwner,
    editableParams: EffectiveParameters,
  ): Promise<void> {
    try {
      await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: sessionPk(sessionId), sk: SESSION_SK },
          UpdateExpression: 'SET editableParams = :params',
          ConditionExpression: 'tenantId = :tenantId AND #sub = :sub AND embedId = :embedId AND expiresAt > :now',
          ExpressionAttributeNames: { '#sub': 'sub' },
          ExpressionAttributeValues: {
            ':params': editableParams,
            ':tenantId': owner.tenantId,
            ':sub': owner.sub,
            ':embedId': owner.embedId,
            ':now': this.now(),
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new EmbedSessionInvalid();
      throw error;
    }
  }

  private futureExpiry(expiresAt: number): number {
    if (!Number.isInteger(expiresAt) || expiresAt <= this.now()) {
      throw new ValidationFailed('expiresAt', 'must be a future time in epoch milliseconds');
    }
    return expiresAt;
  }
}

function epochSecondsOf(value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new ValidationFailed('tokenIssuedAt', 'must be epoch seconds');
  return value;
}

function ttlOf(expiresAtMs: number): number {
  return epochSeconds(expiresAtMs) + 60;
}

function toSession(item: Record<string, unknown>): EmbedSession {
  return {
    sessionId: item.sessionId as string,
    tenantId: item.tenantId as string,
    sub: item.sub as string,
    embedId: item.embedId as string,
    jti: item.jti as string,
    tokenIssuedAt: item.tokenIssuedAt as number,
    lockedParams: (item.lockedParams as EffectiveParameters | undefined) ?? {},
    editableParams: (item.editableParams as EffectiveParameters | undefined) ?? {},
    expiresAt: item.expiresAt as number,
    createdAt: item.createdAt as string,
  };
}
