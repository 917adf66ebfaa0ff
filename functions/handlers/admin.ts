import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { saveDashboard } from '#admin/dashboards';
import { createDataset, putRlsMapping, putRlsRules } from '#admin/datasets';
import { declareRollup, dropRollup, listRollups } from '#admin/rollups';
import { createEmbed, updateEmbed } from '#admin/embeds';
import { revoke } from '#admin/revocations';
import { rotateSigningKeyNow } from '#admin/signing-keys';
import {
  auditQuery,
  createDashboardBody,
  createDatasetBody,
  createEmbedBody,
  dashboardBody,
  dashboardIdPath,
  datasetIdPath,
  embedIdPath,
  importRowsBody,
  mappingIdPath,
  revocationBody,
  rollupBody,
  rollupPath,
  rlsMappingBody,
  rlsRulesBody,
  updateEmbedBody,
} from '#api/schemas';
import { type ApiRequest, type RouteHandler, createApiHandler } from '#http/api-handler';
import { auditRefusals, createObservability } from '#http/observability';
import { parseBody, validate } from '#http/request';
import type { ApiResult } from '#http/responses';
import { AdminRequired, Conflict, NotFound } from '#errors';
import { AuditRepository } from '#control/audit';
import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { EmbedRepository } from '#control/embeds';
import { RevocationRepository } from '#control/revocations';
import { RlsRepository } from '#control/rls';
import { TableGateway } from '#control/table-gateway';
import { importDataset } from '#datasets/import';
import { CONTROL_PLANE_TIMEOUTS, clientOptions, documentClient } from '#shared/clients';
import { listEnv, optionalEnv, requireEnv } from '#shared/config';
import { GROUP_TENANT_ADMINS } from '#shared/identity';
import { secretsManagerClient } from '#shared/secrets-manager-client';
import { stsClient } from '#shared/sts-client';
import { TenantScopedClients } from '#shared/tenant-credentials';
import { createCognitoUserDirectory } from '#shared/user-directory';
import { createKeySetRepository } from '#keys/key-set';
import { DEFAULT_SIGNING_KEY_SECRET_PREFIX } from '#keys/secret-value';

/**
 * The admin API (`/v1/admin/...`): `tenant-admins` only, and always the caller's own tenant: the
 * tenant comes from the verified claims and every repository call is keyed by it, so an id of
 * another tenant's resource is simply not found. Dataset rows are written through the
 * tenant-scoped writer role, never with this function's own credentials.
 */

const config = {
  controlTable: requireEnv('CONTROL_TABLE_NAME'),
  dataTable: requireEnv('DATA_TABLE_NAME'),
  tenantDataWriterRoleArn: requireEnv('TENANT_DATA_WRITER_ROLE_ARN'),
  secretPrefix: optionalEnv('SIGNING_KEY_SECRET_PREFIX', DEFAULT_SIGNING_KEY_SECRET_PREFIX),
  userPoolId: requireEnv('USER_POOL_ID'),
  allowedOrigins: listEnv('ALLOWED_ORIGINS'),
};

/** Largest import body: below Lambda's 6 MB synchronous payload limit. */
const MAX_IMPORT_BODY_BYTES = 5_800_000;

const { logger, metrics } = createObservability('admin');
const control = new TableGateway(documentClient(), config.controlTable);
const audit = new AuditRepository(control);
const datasets = new DatasetRepository(control);
const dashboards = new DashboardRepository(control);
const embeds = new EmbedRepository(control);
const rls = new RlsRepository(control);
const revocations = new RevocationRepository(control);
const writers = new TenantScopedClients({ sts: stsClient(), roleArn: config.tenantDataWriterRoleArn });
const keySets = createKeySetRepository({ table: control });
const users = createCognitoUserDirectory({
  cognito: new CognitoIdentityProviderClient(clientOptions(CONTROL_PLANE_TIMEOUTS)),
  userPoolId: config.userPoolId,
});

type AdminRoute = (request: ApiRequest, tenantId: string) => Promise<ApiResult>;

/** Wraps a route: admin group required, and every successful change is audited. */
function admin(action: string | undefined, route: AdminRoute): RouteHandler {
  return async (request) => {
    if (!request.caller.groups.includes(GROUP_TENANT_ADMINS)) throw new AdminRequired();
    const result = await route(request, request.caller.tenantId);
    if (action) {
      await audit.append({
        tenantId: request.caller.tenantId,
        sub: request.caller.sub,
        action,
        ...(request.pathParameters.embedId ? { embedId: request.pathParameters.embedId } : {}),
        outcome: 'allowed',
        reason: 'OK',
      });
    }
    return result;
  };
}

const body = <S extends Parameters<typeof parseBody>[2]>(request: ApiRequest, schema: S, maxBytes?: number) =>
  parseBody(request.rawBody, request.isBase64Encoded, schema, maxBytes);

const routes: Record<string, RouteHandler> = {
  'GET /v1/admin/datasets': admin(undefined, async (_request, tenantId) => ({
    status: 200,
    body: { datasets: await datasets.list(tenantId) },
  })),
  'POST /v1/admin/datasets': admin('admin.dataset.create', async (request, tenantId) => {
    const input = body(request, createDatasetBody);
    return { status: 201, body: await createDataset({ datasets }, { tenantId, ...input }) };
  }),
  'GET /v1/admin/datasets/{datasetId}': admin(undefined, async (request, tenantId) => {
    const { datasetId } = validate(datasetIdPath, request.pathParameters, 'path');
    return { status: 200, body: await datasets.require(tenantId, datasetId) };
  }),
  'POST /v1/admin/datasets/{datasetId}/imports': admin('admin.dataset.import', async (request, tenantId) => {
    const { datasetId } = validate(datasetIdPath, request.pathParameters, 'path');
    const input = body(request, importRowsBody, MAX_IMPORT_BODY_BYTES);
    const summary = await importDataset(
      { tenantId, datasetId, format: input.format, content: input.content },
      { datasets, data: new TableGateway(writers.documentClient(tenantId), config.dataTable) },
    );
    return { status: 200, body: summary };
  }),
  'GET /v1/admin/datasets/{datasetId}/rls-rules': admin(undefined, async (request, tenantId) => {
    const { datasetId } = validate(datasetIdPath, request.pathParameters, 'path');
    await datasets.require(tenantId, datasetId);
    return { status: 200, body: { datasetId, rules: (await rls.getRules(tenantId, datasetId)) ?? [] } };
  }),
  'PUT /v1/admin/datasets/{datasetId}/rls-rules': admin('admin.rls.update', async (request, tenantId) => {
    const { datasetId } = validate(datasetIdPath, request.pathParameters, 'path');
    const input = body(request, rlsRulesBody);
    return {
      status: 200,
      body: { datasetId, rules: await putRlsRules({ datasets, rls }, tenantId, datasetId, input.rules) },
    };
  }),
  'GET /v1/admin/datasets/{datasetId}/rollups': admin(undefined, async (request, tenantId) => {
    const { datasetId } = validate(datasetIdPath, request.pathParameters, 'path');
    return { status: 200, body: { datasetId, rollups: await listRollups({ datasets }, tenantId, datasetId) } };
  }),
  'PUT /v1/admin/datasets/{datasetId}/rollups/{rollupId}': admin('admin.rollup.update', async (request, tenantId) => {
    const { datasetId, rollupId } = validate(rollupPath, request.pathParameters, 'path');
    const input = body(request, rollupBody);
    const data = new TableGateway(writers.documentClient(tenantId), config.dataTable);
    return {
      status: 200,
      body: await declareRollup({ datasets, data }, tenantId, datasetId, { id: rollupId, ...input }),
    };
  }),
  'DELETE /v1/admin/datasets/{datasetId}/rollups/{rollupId}': admin(
    'admin.rollup.delete',
    async (request, tenantId) => {
      const { datasetId, rollupId } = validate(rollupPath, request.pathParameters, 'path');
      const data = new TableGateway(writers.documentClient(tenantId), config.dataTable);
      await dropRollup({ datasets, data }, tenantId, datasetId, rollupId);
      return { status: 204 };
    },
  ),
  'GET /v1/admin/rls-mappings/{mappingId}': admin(undefined, async (request, tenantId) => {
    const { mappingId } = validate(mappingIdPath, request.pathParameters, 'path');
    const mapping = (await rls.getMappings(tenantId, [mappingId])).get(mappingId);
    if (!mapping) throw new NotFound('mapping');
    return { status: 200, body: mapping };
  }),
  'PUT /v1/admin/rls-mappings/{mappingId}': admin('admin.rls-mapping.update', async (request, tenantId) => {
    const { mappingId } = validate(mappingIdPath, request.pathParameters, 'path');
    const input = body(request, rlsMappingBody);
    return { status: 200, body: await putRlsMapping({ rls }, tenantId, { id: mappingId, entries: input.entries }) };
  }),
  'GET /v1/admin/dashboards': admin(undefined, async (_request, tenantId) => ({
    status: 200,
    body: { dashboards: await dashboards.list(tenantId) },
  })),
  'POST /v1/admin/dashboards': admin('admin.dashboard.create', async (request, tenantId) => {
    const input = body(request, createDashboardBody);
    if (await dashboards.get(tenantId, input.dashboardId)) throw new Conflict('The dashboard already exists.');
    return { status: 201, body: await saveDashboard({ dashboards, datasets, rls }, { tenantId, ...input }) };
  }),
  'GET /v1/admin/dashboards/{dashboardId}': admin(undefined, async (request, tenantId) => {
    const { dashboardId } = validate(dashboardIdPath, request.pathParameters, 'path');
    const dashboard = await dashboards.get(tenantId, dashboardId);
    if (!dashboard) throw new NotFound('dashboard');
    return { status: 200, body: dashboard };
  }),
  'PUT /v1/admin/dashboards/{dashboardId}': admin('admin.dashboard.update', async (request, tenantId) => {
    const { dashboardId } = validate(dashboardIdPath, request.pathParameters, 'path');
    const input = body(request, dashboardBody);
    if (!(await dashboards.get(tenantId, dashboardId))) throw new NotFound('dashboard');
    return {
      status: 200,
      body: await saveDashboard({ dashboards, datasets, rls }, { tenantId, dashboardId, ...input }),
    };
  }),
  'GET /v1/admin/embeds': admin(undefined, async (_request, tenantId) => ({
    status: 200,
    body: { embeds: await embeds.list(tenantId) },
  })),
  'POST /v1/admin/embeds': admin('admin.embed.create', async (request, tenantId) => {
    const input = body(request, createEmbedBody);
    return { status: 201, body: await createEmbed({ embeds, dashboards }, tenantId, input) };
  }),
  'GET /v1/admin/embeds/{embedId}': admin(undefined, async (request, tenantId) => {
    const { embedId } = validate(embedIdPath, request.pathParameters, 'path');
    const embed = await embeds.get(tenantId, embedId);
    if (!embed) throw new NotFound('embed');
    return { status: 200, body: embed };
  }),
  'PATCH /v1/admin/embeds/{embedId}': admin('admin.embed.update', async (request, tenantId) => {
    const { embedId } = validate(embedIdPath, request.pathParameters, 'path');
    const changes = body(request, updateEmbedBody);
    return { status: 200, body: await updateEmbed({ embeds, dashboards }, tenantId, embedId, changes) };
  }),
  'POST /v1/admin/signing-keys/rotate': admin('admin.signing-key.rotate', async (_request, tenantId) => ({
    status: 202,
    body: await rotateSigningKeyNow({
      secrets: secretsManagerClient(),
      keySets,
      prefix: config.secretPrefix,
      tenantId,
      now: Date.now,
    }),
  })),
  'GET /v1/admin/revocations': admin(undefined, async (_request, tenantId) => ({
    status: 200,
    body: { revocations: await revocations.list(tenantId) },
  })),
  'POST /v1/admin/revocations': admin('admin.revocation.create', async (request, tenantId) => {
    const input = body(request, revocationBody);
    return {
      status: 201,
      body: await revoke({ revocations, embeds, users, now: Date.now }, tenantId, request.caller.sub, input),
    };
  }),
  'GET /v1/admin/audit': admin(undefined, async (request, tenantId) => {
    const query = validate(auditQuery, request.query, 'query');
    return {
      status: 200,
      body: await audit.list(tenantId, {
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      }),
    };
  }),
};

export const handler = createApiHandler({
  logger,
  allowedOrigins: config.allowedOrigins,
  routes,
  onRefusal: auditRefusals({ audit, metrics, logger, actions: {}, fallback: 'admin.request' }),
});
