import { randomBytes } from 'node:crypto';
import { EmbedTokenAlreadyRedeemed } from '#errors';
import type { Clock } from './dynamo.ts';
import { assertTenantId, REDEEMED_SK, redeemedPk } from './keys.ts';
import type { TableGateway } from './table-gateway.ts';

/**
 * Redeemed token ids (`REDEEMED#<jti>` / `REDEEMED`), kept until the token expires (TTL), so
 * each embed token opens at most one session.
 */
export class RedemptionRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /**
   * Records the redemption of `jti` with a conditional put; a second redemption of the same id
   * throws `EmbedTokenAlreadyRedeemed`. `expiresAt` is the token's `exp` (epoch seconds).
   *
   * The SDK retries a write whose answer timed out; if the first attempt had landed, the retry
   * finds the item. Each call writes a random attempt id, so a failed condition on our own item
   * (same attempt id, read back consistently) is the earlier attempt's success, not a replay.
   */
  async redeemOnce(jti: string, tenantId: string, expiresAt: number): Promise<void> {
    const attempt = randomBytes(12).toString('base64url');
    const key = { pk: redeemedPk(jti), sk: REDEEMED_SK };
    try {
      await this.table.put(
        {
          Item: {
            ...key,
            kind: 'redemption',
            tenantId: assertTenantId(tenantId),
            attempt,
            redeemedAt: new Date(this.now()).toISOString(),
            ttl: expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        () => new EmbedTokenAlreadyRedeemed(),
      );
    } catch (error) {
      if (!(error instanceof EmbedTokenAlreadyRedeemed)) throw error;
      const existing = await this.table.get({ Key: key, ConsistentRead: true, ProjectionExpression: 'attempt' });
      if (existing?.attempt !== attempt) throw error;
    }
  }
}
