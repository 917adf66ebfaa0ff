import type { Clock } from './dynamo.ts';
import { assertResourceId, assertTenantId, rlsMappingSk, rlsRulesSk, tenantPk } from './keys.ts';
import type { RlsMapping, RlsRule } from './records.ts';
import type { Item, TableGateway } from './table-gateway.ts';

/** RLS rules of one dataset (`RLS#<datasetId>`) and RLS mappings (`RLSMAP#<mappingId>`), per tenant. */
export class RlsRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Replaces the rules of a dataset (validated by the caller against the schema, see `admin/rls.ts`). */
  async putRules(tenantId: string, datasetId: string, rules: readonly RlsRule[]): Promise<void> {
    await this.table.put({
      Item: {
        pk: tenantPk(assertTenantId(tenantId)),
        sk: rlsRulesSk(datasetId),
        kind: 'rlsRules',
        tenantId,
        datasetId,
        rules,
        updatedAt: new Date(this.now()).toISOString(),
      },
    });
  }

  /** The rules of a dataset; undefined when none were ever set (which denies every viewer). */
  async getRules(tenantId: string, datasetId: string): Promise<RlsRule[] | undefined> {
    const item = await this.table.get({ Key: { pk: tenantPk(tenantId), sk: rlsRulesSk(datasetId) } });
    return item ? (item.rules as RlsRule[]) : undefined;
  }

  /** Creates or replaces a mapping (validated by the caller). */
  async putMapping(tenantId: string, mapping: RlsMapping): Promise<void> {
    await this.table.put({
      Item: {
        pk: tenantPk(assertTenantId(tenantId)),
        sk: rlsMappingSk(mapping.id),
        kind: 'rlsMapping',
        tenantId,
        id: mapping.id,
        entries: mapping.entries,
        updatedAt: new Date(this.now()).toISOString(),
      },
    });
  }

  /** The mappings with the given ids that exist (one BatchGetItem per 100 ids). */
  async getMappings(tenantId: string, mappingIds: readonly string[]): Promise<Map<string, RlsMapping>> {
    const ids = [...new Set(mappingIds)].map((id) => assertResourceId(id, 'mappingId'));
    const mappings = new Map<string, RlsMapping>();
    for (let i = 0; i < ids.length; i += 100) {
      const keys = ids.slice(i, i + 100).map((id) => ({ pk: tenantPk(tenantId), sk: rlsMappingSk(id) }));
      for (const item of await this.table.batchGet(keys)) mappings.set(item.id as string, toMapping(item));
    }
    return mappings;
  }

  /** Every mapping of a tenant. */
  async listMappings(tenantId: string): Promise<RlsMapping[]> {
    return (await this.table.queryAllByPrefix(tenantPk(tenantId), 'RLSMAP#')).map(toMapping);
  }
}

function toMapping(item: Item): RlsMapping {
  return { id: item.id as string, entries: item.entries as RlsMapping['entries'] };
}
