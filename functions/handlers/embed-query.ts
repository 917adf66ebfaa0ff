import { queryEmbedBody } from '../api/schemas.ts';
import { type EmbedQueryDeps, queryEmbedDashboard } from '../embed/query.ts';
import { createEmbedTargetCache } from '../embed/resources.ts';
import { createApiHandler } from '../http/api-handler.ts';
import { controlRepositories } from '../http/control-repositories.ts';
import { auditRefusals, createObservability } from '../http/observability.ts';
import { parseBody } from '../http/request.ts';
import { stsClient } from '#shared/clients';
import { listEnv, requireEnv } from '#shared/config';
import { TenantScopedClients } from '#shared/tenant-credentials';

/**
 * POST /v1/embed/query — reads dataset rows ONLY through the tenant-scoped role, assumed with the
 * verified tenant as session tag; this function's own role has no grant on the data table.
 */

const config = {
  controlTable: requireEnv('CONTROL_TABLE_NAME'),
  dataTable: requireEnv('DATA_TABLE_NAME'),
  tenantDataRoleArn: requireEnv('TENANT_DATA_ROLE_ARN'),
  allowedOrigins: listEnv('ALLOWED_ORIGINS'),
};

const { logger, metrics } = createObservability('embed-query');
const repositories = controlRepositories(config.controlTable);
const tenantClients = new TenantScopedClients({ sts: stsClient(), roleArn: config.tenantDataRoleArn });
const deps: EmbedQueryDeps = {
  ...repositories,
  dataFor: (tenantId) => ({ client: tenantClients.documentClient(tenantId), tableName: config.dataTable }),
  // Filter changes re-run the query often; the embed and dashboard definitions rarely change.
  loadTarget: createEmbedTargetCache({ ttlMs: 5_000 }),
};

export const handler = createApiHandler({
  logger,
  allowedOrigins: config.allowedOrigins,
  routes: {
    'POST /v1/embed/query': async (request) => {
      const body = parseBody(request.rawBody, request.isBase64Encoded, queryEmbedBody);
      return { status: 200, body: await queryEmbedDashboard(deps, request.caller, body) };
    },
  },
  onRefusal: auditRefusals({ audit: repositories.audit, metrics, logger, actions: {}, fallback: 'embed.query' }),
});
