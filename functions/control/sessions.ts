import { randomBytes } from 'node:crypto';
import { Conflict, EmbedSessionInvalid } from '#errors';
import { type Clock, epochSeconds } from './dynamo.ts';
import { assertResourceId, assertTenantId, SESSION_SK, sessionPk } from './keys.ts';
import type { EffectiveParameters } from './records.ts';
import type { Item, TableGateway } from './table-gateway.ts';

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
    private readonly table: TableGateway,
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
      tokenIssuedAt: input.tokenIssuedAt,
      lockedParams: input.lockedParams,
      editableParams: input.editableParams,
      expiresAt: input.expiresAt,
      createdAt: new Date(this.now()).toISOString(),
    };
    const key = { pk: sessionPk(session.sessionId), sk: SESSION_SK };
    try {
      await this.table.put(
        {
          Item: { ...key, kind: 'session', ...session, ttl: ttlOf(session.expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        () => new Conflict('The session already exists.'),
      );
    } catch (error) {
      // A 192-bit random id never collides: a failed condition is the SDK retrying our own write
      // after a timeout, which had landed. Anything else is a real failure.
      if (!(error instanceof Conflict)) throw error;
      const existing = await this.table.get({ Key: key, ConsistentRead: true, ProjectionExpression: 'jti' });
      if (existing?.jti !== session.jti) throw error;
    }
    return session;
  }

  /**
   * The live session for this owner. Missing, expired, or owned by another viewer, tenant or
   * embed are indistinguishable: `EmbedSessionInvalid`.
   */
  async get(sessionId: string, owner: SessionOwner): Promise<EmbedSession> {
    if (typeof sessionId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sessionId)) throw new EmbedSessionInvalid();
    const item = await this.table.get({ Key: { pk: sessionPk(sessionId), sk: SESSION_SK }, ConsistentRead: true });
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
    const expiresAt = input.expiresAt;
    const attributes = await this.table.update(
      {
        Key: { pk: sessionPk(sessionId), sk: SESSION_SK },
        UpdateExpression:
          'SET jti = :jti, tokenIssuedAt = :iat, lockedParams = :locked, expiresAt = :expiresAt, #ttl = :ttl',
        ConditionExpression: 'tenantId = :tenantId AND #sub = :sub AND embedId = :embedId AND expiresAt > :now',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#sub': 'sub' },
        ExpressionAttributeValues: {
          ':jti': assertResourceId(input.jti, 'jti'),
          ':iat': input.tokenIssuedAt,
          ':locked': input.lockedParams,
          ':expiresAt': expiresAt,
          ':ttl': ttlOf(expiresAt),
          ':tenantId': owner.tenantId,
          ':sub': owner.sub,
          ':embedId': owner.embedId,
          ':now': this.now(),
        },
        ReturnValues: 'ALL_NEW',
      },
      () => new EmbedSessionInvalid(),
    );
    return toSession(attributes!);
  }

  /** Stores the viewer's editable parameter state (already validated by the parameter policy). */
  async updateEditableParams(
    sessionId: string,
    owner: SessionOwner,
    editableParams: EffectiveParameters,
  ): Promise<void> {
    await this.table.update(
      {
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
      },
      () => new EmbedSessionInvalid(),
    );
  }
}

function ttlOf(expiresAtMs: number): number {
  return epochSeconds(expiresAtMs) + 60;
}

function toSession(item: Item): EmbedSession {
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
