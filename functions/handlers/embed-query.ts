import { queryEmbedBody } from '#api/schemas';
import { type EmbedQueryDeps, queryEmbedDashboard } from '#embed/query';
import { createEmbedTargetCache } from '#embed/resources';
import { createApiHandler } from '#http/api-handler';
import { auditRefusals, createObservability } from '#http/observability';
import { parseBody } from '#http/request';
import { AuditRepository } from '#control/audit';
import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { EmbedRepository } from '#control/embeds';
import { RevocationRepository } from '#control/revocations';
import { RlsRepository } from '#control/rls';
import { SessionRepository } from '#control/sessions';
import { TableGateway } from '#control/table-gateway';
import { documentClient } from '#shared/clients';
import { stsClient } from '#shared/sts-client';
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
const control = new TableGateway(documentClient(), config.controlTable);
const tenantClients = new TenantScopedClients({ sts: stsClient(), roleArn: config.tenantDataRoleArn });
const dataTables = new Map<string, TableGateway>();
const deps: EmbedQueryDeps = {
  embeds: new EmbedRepository(control),
  dashboards: new DashboardRepository(control),
  datasets: new DatasetRepository(control),
  rls: new RlsRepository(control),
  sessions: new SessionRepository(control),
  revocations: new RevocationRepository(control),
  audit: new AuditRepository(control),
  dataFor: (tenantId) => {
    let table = dataTables.get(tenantId);
    if (!table) {
      table = new TableGateway(tenantClients.documentClient(tenantId), config.dataTable);
      dataTables.set(tenantId, table);
    }
    return table;
  },
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
  onRefusal: auditRefusals({ audit: deps.audit, metrics, logger, actions: {}, fallback: 'embed.query' }),
});
