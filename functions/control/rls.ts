import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DatasetSchema } from '#datasets/schema';
import { type RlsMapping, type RlsRule, validateRlsMapping, validateRlsRules } from '#datasets/rls';
import { batchGetAll, type Clock, type TableRef } from './dynamo.ts';
import { queryAllByPrefix } from './dynamo.ts';
import { assertResourceId, assertTenantId, rlsMappingSk, rlsRulesSk, tenantPk } from './keys.ts';

/** RLS rules of one dataset (`RLS#<datasetId>`) and RLS mappings (`RLSMAP#<mappingId>`), per tenant. */
export class RlsRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableRef,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Replaces the rules of a dataset after validating them against its schema (`DatasetSchemaInvalid`). */
  async putRules(tenantId: string, datasetId: string, rules: unknown, schema: DatasetSchema): Promise<RlsRule[]> {
    const valid = validateRlsRules(rules, schema);
    await this.table.client.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          pk: tenantPk(assertTenantId(tenantId)),
          sk: rlsRulesSk(datasetId),
          kind: 'rlsRules',
          tenantId,
          datasetId,
          rules: valid,
          updatedAt: new Date(this.now()).toISOString(),
        },
      }),
    );
    return valid;
  }

  /** The rules of a dataset; undefined when none were ever set (which denies every viewer). */
  async getRules(tenantId: string, datasetId: string): Promise<RlsRule[] | undefined> {
    const result = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: { pk: tenantPk(tenantId), sk: rlsRulesSk(datasetId) } }),
    );
    return result.Item ? (result.Item.rules as RlsRule[]) : undefined;
  }

  /** Creates or replaces a mapping (`DatasetSchemaInvalid` when malformed). */
  async putMapping(tenantId: string, mapping: unknown): Promise<RlsMapping> {
    const valid = validateRlsMapping(mapping);
    await this.table.client.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          pk: tenantPk(assertTenantId(tenantId)),
          sk: rlsMappingSk(valid.id),
          kind: 'rlsMapping',
          tenantId,
          ...valid,
          updatedAt: new Date(this.now()).toISOString(),
        },
      }),
    );
    return valid;
  }

  /** The mappings with the given ids that exist (one BatchGetItem per 100 ids). */
  async getMappings(tenantId: string, mappingIds: readonly string[]): Promise<Map<string, RlsMapping>> {
    const ids = [...new Set(mappingIds)].map((id) => assertResourceId(id, 'mappingId'));
    const mappings = new Map<string, RlsMapping>();
    for (let i = 0; i < ids.length; i += 100) {
      const keys = ids.slice(i, i + 100).map((id) => ({ pk: tenantPk(tenantId), sk: rlsMappingSk(id) }));
      for (const item of await batchGetAll(this.table, keys)) {
        mappings.set(item.id as string, { id: item.id as string, entries: item.entries as RlsMapping['entries'] });
      }
    }
    return mappings;
  }

  /** Every mapping of a tenant. */
  async listMappings(tenantId: string): Promise<RlsMapping[]> {
    const items = await queryAllByPrefix(this.table, tenantPk(tenantId), 'RLSMAP#');
    return items.map((item) => ({ id: item.id as string, entries: item.entries as RlsMapping['entries'] }));
  }
}
