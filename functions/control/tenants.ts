import { Conflict } from '#errors';
import type { Clock } from './dynamo.ts';
import type { Item, TableGateway } from './table-gateway.ts';
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
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Stores a new tenant (validated by the caller); `Conflict` when it exists. */
  async create(input: { tenantId: string; name: string }): Promise<Tenant> {
    const tenantId = assertTenantId(input.tenantId);
    const tenant: Tenant = { tenantId, name: input.name, createdAt: new Date(this.now()).toISOString() };
    await this.table.put(
      {
        Item: { pk: tenantPk(tenantId), sk: TENANT_META_SK, gsi1pk: TENANTS_INDEX_PK, gsi1sk: tenantId, ...tenant },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
      () => new Conflict('The tenant already exists.'),
    );
    return tenant;
  }

  /** The tenant, or undefined. */
  async get(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.table.get({ Key: { pk: tenantPk(tenantId), sk: TENANT_META_SK } });
    return item ? toTenant(item) : undefined;
  }

  /** Every tenant, in id order. */
  async list(): Promise<Tenant[]> {
    const tenants: Tenant[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': TENANTS_INDEX_PK },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      tenants.push(...(page.Items ?? []).map(toTenant));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return tenants;
  }
}

function toTenant(item: Item): Tenant {
  return { tenantId: item.tenantId as string, name: item.name as string, createdAt: item.createdAt as string };
}
