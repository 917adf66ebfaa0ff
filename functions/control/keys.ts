import { ValidationFailed } from '#errors';
import { TENANT_ID_PATTERN } from '#shared/identity';

/**
 * Key builders for the control table (single-table design, see docs/contracts.md) and the id
 * checks that guard them: nothing crafted by a caller may land in a key, so every id is checked
 * against a strict pattern before a key is built from it.
 */

/** Ids of datasets, dashboards, embeds, widgets, mappings, sessions, token ids (`jti`) and subjects. */
export const RESOURCE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws `ValidationFailed` unless `value` is a valid tenant id; returns it typed. */
export function assertTenantId(value: unknown, field = 'tenantId'): string {
  if (typeof value !== 'string' || !TENANT_ID_PATTERN.test(value)) {
    throw new ValidationFailed(field, 'must be a valid tenant id');
  }
  return value;
}

/** Throws `ValidationFailed` unless `value` matches `^[A-Za-z0-9_-]{1,64}$`; returns it typed. */
export function assertResourceId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !RESOURCE_ID_PATTERN.test(value)) {
    throw new ValidationFailed(field, 'must match ^[A-Za-z0-9_-]{1,64}$');
  }
  return value;
}

/** Partition key shared by every per-tenant control item. */
export function tenantPk(tenantId: string): string {
  return `TENANT#${assertTenantId(tenantId)}`;
}

export const TENANT_META_SK = 'META';
/** The sparse index partition that lists every tenant (gsi1), so listing tenants needs no Scan. */
export const TENANTS_INDEX_PK = 'TENANTS';

export const datasetSk = (datasetId: string) => `DATASET#${assertResourceId(datasetId, 'datasetId')}`;
export const dashboardSk = (dashboardId: string) => `DASHBOARD#${assertResourceId(dashboardId, 'dashboardId')}`;
export const embedSk = (embedId: string) => `EMBED#${assertResourceId(embedId, 'embedId')}`;
export const rlsRulesSk = (datasetId: string) => `RLS#${assertResourceId(datasetId, 'datasetId')}`;
export const rlsMappingSk = (mappingId: string) => `RLSMAP#${assertResourceId(mappingId, 'mappingId')}`;
export const revokedTokenSk = (jti: string) => `REVOKED#TOKEN#${assertResourceId(jti, 'jti')}`;
export const revokedUserSk = (sub: string) => `REVOKED#USER#${assertResourceId(sub, 'sub')}`;
export const revokedEmbedSk = (embedId: string) => `REVOKED#EMBED#${assertResourceId(embedId, 'embedId')}`;
export const redeemedPk = (jti: string) => `REDEEMED#${assertResourceId(jti, 'jti')}`;
export const REDEEMED_SK = 'REDEEMED';
export const sessionPk = (sessionId: string) => `SESSION#${assertResourceId(sessionId, 'sessionId')}`;
export const SESSION_SK = 'SESSION';
export const auditPk = (tenantId: string) => `AUDIT#${assertTenantId(tenantId)}`;
