/**
 * The key design of both DynamoDB tables, as plain data. The CDK data stack and the local
 * runner (DynamoDB Local) both build their tables from this, so the two cannot drift.
 */
export interface KeyDesign {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute?: string;
  readonly globalIndexes: ReadonlyArray<{
    readonly name: string;
    readonly partitionKey: string;
    readonly sortKey: string;
  }>;
}

/** Control data: tenants, datasets, dashboards, embeds, RLS rules, revocations, redemptions, audit, public keys. */
export const CONTROL_TABLE: KeyDesign = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  globalIndexes: [{ name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
};

/**
 * Dataset rows and their rollups. Every partition key (table and index) begins with
 * `<tenantId>#`, which is what the tenant-scoped IAM role's `dynamodb:LeadingKeys` condition
 * enforces: rows under `<tenant>#<dataset>#<version>#<enc(partition value)>`, rollup items under
 * `<tenant>#<dataset>#<version>#R#<rollupId>#g<generation>#<enc(first dimension)>`, so the same
 * `${aws:PrincipalTag/tenant}#*` condition covers both and no new grant exists for rollups.
 */
export const DATA_TABLE: KeyDesign = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalIndexes: [
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
};
