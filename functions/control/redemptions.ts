import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { EmbedTokenAlreadyRedeemed, ValidationFailed } from '#errors';
import { type Clock, isConditionalCheckFailed, type TableRef } from './dynamo.ts';
import { assertTenantId, REDEEMED_SK, redeemedPk } from './keys.ts';

/**
 * Redeemed token ids (`REDEEMED#<jti>` / `REDEEMED`), kept until the token expires (TTL), so
 * each embed token opens at most one session.
 */
export class RedemptionRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableRef,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /**
   * Records the redemption of `jti` with a conditional put; a second redemption of the same id
   * throws `EmbedTokenAlreadyRedeemed`. `expiresAt` is the token's `exp` (epoch seconds).
   */
  async redeemOnce(jti: string, tenantId: string, expiresAt: number): Promise<void> {
    if (!Number.isInteger(expiresAt) || expiresAt <= 0)
      throw new ValidationFailed('expiresAt', 'must be epoch seconds');
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: {
            pk: redeemedPk(jti),
            sk: REDEEMED_SK,
            kind: 'redemption',
            tenantId: assertTenantId(tenantId),
            redeemedAt: new Date(this.now()).toISOString(),
            ttl: expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new EmbedTokenAlreadyRedeemed();
      throw error;
    }
  }
}
