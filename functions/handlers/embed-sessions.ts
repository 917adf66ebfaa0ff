import { openEmbedSessionBody, renewEmbedSessionBody, sessionIdPath } from '#api/schemas';
import { openEmbedSession, renewEmbedSession, type EmbedSessionDeps } from '#embed/sessions';
import { createApiHandler } from '#http/api-handler';
import { AuditRepository } from '#control/audit';
import { DashboardRepository } from '#control/dashboards';
import { EmbedRepository } from '#control/embeds';
import { RedemptionRepository } from '#control/redemptions';
import { RevocationRepository } from '#control/revocations';
import { SessionRepository } from '#control/sessions';
import { TableGateway } from '#control/table-gateway';
import { documentClient } from '#shared/clients';
import { auditRefusals, createObservability } from '#http/observability';
import { parseBody, validate } from '#http/request';
import { listEnv, requireEnv } from '#shared/config';
import { createKeySetRepository } from '#keys/key-set';
import { createPublicKeyDirectory } from '#keys/public-key-directory';
import { createEmbedTokenVerifier } from '#token/verify';

/**
 * POST /v1/embed/sessions and /renew — a validator: verifies embed tokens with the tenants'
 * PUBLISHED public keys (control table), never with Secrets Manager, which it cannot read.
 */

const config = {
  controlTable: requireEnv('CONTROL_TABLE_NAME'),
  issuer: requireEnv('TOKEN_ISSUER'),
  audience: requireEnv('TOKEN_AUDIENCE'),
  allowedOrigins: listEnv('ALLOWED_ORIGINS'),
};

const { logger, metrics } = createObservability('embed-sessions');
const control = new TableGateway(documentClient(), config.controlTable);
const keys = createPublicKeyDirectory({ source: createKeySetRepository({ table: control }) });
const deps: EmbedSessionDeps = {
  embeds: new EmbedRepository(control),
  dashboards: new DashboardRepository(control),
  sessions: new SessionRepository(control),
  redemptions: new RedemptionRepository(control),
  revocations: new RevocationRepository(control),
  audit: new AuditRepository(control),
  verify: createEmbedTokenVerifier({ keys, issuer: config.issuer, audience: config.audience }),
};

export const handler = createApiHandler({
  logger,
  allowedOrigins: config.allowedOrigins,
  routes: {
    'POST /v1/embed/sessions': async (request) => {
      const body = parseBody(request.rawBody, request.isBase64Encoded, openEmbedSessionBody);
      return { status: 201, body: await openEmbedSession(deps, request.caller, body.token) };
    },
    'POST /v1/embed/sessions/{sessionId}/renew': async (request) => {
      const { sessionId } = validate(sessionIdPath, request.pathParameters, 'path');
      const body = parseBody(request.rawBody, request.isBase64Encoded, renewEmbedSessionBody);
      return { status: 200, body: await renewEmbedSession(deps, request.caller, { sessionId, token: body.token }) };
    },
  },
  onRefusal: auditRefusals({
    audit: deps.audit,
    metrics,
    logger,
    actions: {
      'POST /v1/embed/sessions': 'embed-session.open',
      'POST /v1/embed/sessions/{sessionId}/renew': 'embed-session.renew',
    },
    fallback: 'embed-session.open',
  }),
});
