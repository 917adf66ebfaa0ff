import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Conflict, ValidationFailed } from '#errors';
import { type Clock, isConditionalCheckFailed, type TableRef } from './dynamo.ts';
import { assertTenantId, TENANT_META_SK, TENANTS_INDEX_PK, tenantPk } from './keys.ts';

/** A tenant: the unit of isolation. Its id starts every data-table partition key. */
export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly createdAt: string;
}

/** Tenants (`TENANT#<t>` / `META`), listed through the sparse `gsi1` partition `TENANTS` (no Scan). */
export class TenantRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableRef,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Creates a tenant; `Conflict` when it exists. */
  async create(input: { tenantId: string; name: string }): Promise<Tenant> {
    const tenantId = assertTenantId(input.tenantId);
    if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 200) {
      throw new ValidationFailed('name', 'must be 1 to 200 characters');
    }
    const tenant: Tenant = { tenantId, name: input.name, createdAt: new Date(this.now()).toISOString() };
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { pk: tenantPk(tenantId), sk: TENANT_META_SK, gsi1pk: TENANTS_INDEX_PK, gsi1sk: tenantId, ...tenant },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new Conflict('The tenant already exists.');
      throw error;
    }
    return tenant;
  }

  /** The tenant, or undefined. */
  async get(tenantId: string): Promise<Tenant | undefined> {
    const result = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: { pk: tenantPk(tenantId), sk: TENANT_META_SK } }),
    );
    return result.Item ? toTenant(result.Item) : undefined;
  }

  /** Every tenant, in id order. */
  async list(): Promise<Tenant[]> {
    const tenants: Tenant[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': TENANTS_INDEX_PK },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      tenants.push(...(page.Items ?? []).map(toTenant));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return tenants;
  }
}

function toTenant(item: Record<string, unknown>): Tenant {
  return { tenantId: item.tenantId as string, name: item.name as string, createdAt: item.createdAt as string };
}
