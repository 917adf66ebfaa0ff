import { type Clock, epochSeconds } from './dynamo.ts';
import { assertTenantId, revokedEmbedSk, revokedTokenSk, revokedUserSk, tenantPk } from './keys.ts';
import type { TableGateway } from './table-gateway.ts';

/** Which revocation matched. */
export type RevocationScope = 'token' | 'user' | 'embed';

export interface RevocationCheck {
  readonly revoked: boolean;
  readonly scope?: RevocationScope;
}

/** One revocation in force, as the admin API lists it. */
export type Revocation = { readonly revokedBy: string; readonly revokedAt: string } & (
  | { readonly scope: 'token'; readonly jti: string }
  | { readonly scope: 'user'; readonly sub: string; readonly revokedBefore: number }
  | { readonly scope: 'embed'; readonly embedId: string; readonly revokedBefore: number }
);

/** Tokens kept in the revocation list after their expiry, for clock skew, before TTL removes them. */
const TOKEN_REVOCATION_GRACE_SECONDS = 300;

/**
 * Revocations (`TENANT#<t>` / `REVOKED#…`): one token by `jti` (until the token expires), all
 * tokens of a user issued up to a time, all tokens of an embed issued up to a time.
 */
export class RevocationRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Revokes one token; the item lives until the token's own expiry (`exp`, epoch seconds). */
  async revokeToken(input: { tenantId: string; jti: string; exp: number; by: string }): Promise<void> {
    await this.put(input.tenantId, revokedTokenSk(input.jti), input.by, {
      jti: input.jti,
      ttl: input.exp + TOKEN_REVOCATION_GRACE_SECONDS,
    });
  }

  /** Revokes every token of a user issued at or before now (or `before`, epoch seconds). */
  async revokeUser(input: { tenantId: string; sub: string; by: string; before?: number }): Promise<number> {
    const before = input.before ?? epochSeconds(this.now());
    await this.put(input.tenantId, revokedUserSk(input.sub), input.by, { sub: input.sub, revokedBefore: before });
    return before;
  }

  /** Revokes every token of an embed issued at or before now (or `before`, epoch seconds). */
  async revokeEmbed(input: { tenantId: string; embedId: string; by: string; before?: number }): Promise<number> {
    const before = input.before ?? epochSeconds(this.now());
    await this.put(input.tenantId, revokedEmbedSk(input.embedId), input.by, {
      embedId: input.embedId,
      revokedBefore: before,
    });
    return before;
  }

  /**
   * Whether a token is revoked, reading its three possible revocations in ONE BatchGetItem.
   * `iat` is the token's issue time (epoch seconds); a user or embed revocation at time T
   * revokes tokens with `iat ≤ T` (the same second counts, failing closed).
   */
  async isRevoked(input: {
    tenantId: string;
    jti: string;
    sub: string;
    eid: string;
    iat: number;
  }): Promise<RevocationCheck> {
    const pk = tenantPk(assertTenantId(input.tenantId));
    const keys = [
      { pk, sk: revokedTokenSk(input.jti) },
      { pk, sk: revokedUserSk(input.sub) },
      { pk, sk: revokedEmbedSk(input.eid) },
    ];
    // Strongly consistent: a revocation must hold from the moment it was acknowledged.
    const items = await this.table.batchGet(keys, { consistentRead: true });
    const bySk = new Map(items.map((item) => [item.sk as string, item]));
    if (bySk.has(keys[0]!.sk)) return { revoked: true, scope: 'token' };
    const user = bySk.get(keys[1]!.sk);
    if (user && input.iat <= (user.revokedBefore as number)) return { revoked: true, scope: 'user' };
    const embed = bySk.get(keys[2]!.sk);
    if (embed && input.iat <= (embed.revokedBefore as number)) return { revoked: true, scope: 'embed' };
    return { revoked: false };
  }

  /** The tenant's revocations in force (token revocations past their expiry are gone by TTL or filtered out). */
  async list(tenantId: string): Promise<Revocation[]> {
    const nowSeconds = epochSeconds(this.now());
    const revocations: Revocation[] = [];
    for (const item of await this.table.queryAllByPrefix(tenantPk(assertTenantId(tenantId)), 'REVOKED#', {
      limit: 10_000,
    })) {
      // Token revocations past their expiry may linger until TTL removes them: they no longer matter.
      if (typeof item.ttl === 'number' && item.ttl <= nowSeconds) continue;
      const base = { revokedBy: item.revokedBy as string, revokedAt: item.revokedAt as string };
      if (typeof item.jti === 'string') revocations.push({ scope: 'token', jti: item.jti, ...base });
      else if (typeof item.sub === 'string') {
        revocations.push({ scope: 'user', sub: item.sub, revokedBefore: item.revokedBefore as number, ...base });
      } else if (typeof item.embedId === 'string') {
        revocations.push({
          scope: 'embed',
          embedId: item.embedId,
          revokedBefore: item.revokedBefore as number,
          ...base,
        });
      }
    }
    return revocations;
  }

  private async put(tenantId: string, sk: string, by: string, attributes: Record<string, unknown>): Promise<void> {
    await this.table.put({
      Item: {
        pk: tenantPk(assertTenantId(tenantId)),
        sk,
        kind: 'revocation',
        tenantId,
        revokedBy: by.slice(0, 128),
        revokedAt: new Date(this.now()).toISOString(),
        ...attributes,
      },
    });
  }
}
