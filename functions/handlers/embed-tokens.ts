import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { issueEmbedTokenBody } from '#api/schemas';
import { createEmbedTokenIssuer } from '#embed/issue-token';
import { createApiHandler } from '#http/api-handler';
import { auditRefusals, createObservability } from '#http/observability';
import { parseBody } from '#http/request';
import { AuditRepository } from '#control/audit';
import { DashboardRepository } from '#control/dashboards';
import { EmbedRepository } from '#control/embeds';
import { TableGateway } from '#control/table-gateway';
import { CONTROL_PLANE_TIMEOUTS, clientOptions, documentClient } from '#shared/clients';
import { secretsManagerClient } from '#shared/secrets-manager-client';
import { createCognitoUserDirectory } from '#shared/user-directory';
import { listEnv, optionalEnv, requireEnv } from '#shared/config';
import { createSigningKeyStore } from '#keys/signing-key-store';
import { DEFAULT_SIGNING_KEY_SECRET_PREFIX } from '#keys/secret-value';

/** POST /v1/embed-tokens — the signer: the only function that may read tenants' private keys. */

const config = {
  controlTable: requireEnv('CONTROL_TABLE_NAME'),
  secretPrefix: optionalEnv('SIGNING_KEY_SECRET_PREFIX', DEFAULT_SIGNING_KEY_SECRET_PREFIX),
  userPoolId: requireEnv('USER_POOL_ID'),
  issuer: requireEnv('TOKEN_ISSUER'),
  audience: requireEnv('TOKEN_AUDIENCE'),
  viewerBaseUrl: requireEnv('VIEWER_BASE_URL'),
  allowedOrigins: listEnv('ALLOWED_ORIGINS'),
};

const { logger, metrics } = createObservability('embed-tokens');
const control = new TableGateway(documentClient(), config.controlTable);
const audit = new AuditRepository(control);
const issue = createEmbedTokenIssuer({
  embeds: new EmbedRepository(control),
  dashboards: new DashboardRepository(control),
  audit,
  keys: createSigningKeyStore({ secrets: secretsManagerClient(), prefix: config.secretPrefix }),
  viewers: createCognitoUserDirectory({
    cognito: new CognitoIdentityProviderClient(clientOptions(CONTROL_PLANE_TIMEOUTS)),
    userPoolId: config.userPoolId,
  }),
  issuer: config.issuer,
  audience: config.audience,
  viewerBaseUrl: config.viewerBaseUrl,
  now: Date.now,
});

export const handler = createApiHandler({
  logger,
  allowedOrigins: config.allowedOrigins,
  routes: {
    'POST /v1/embed-tokens': async (request) => {
      const body = parseBody(request.rawBody, request.isBase64Encoded, issueEmbedTokenBody);
      const issued = await issue(request.caller, body);
      return { status: 201, body: { token: issued.token, expiresAt: issued.expiresAt, embedUrl: issued.embedUrl } };
    },
  },
  onRefusal: auditRefusals({
    audit,
    metrics,
    logger,
    actions: {},
    fallback: 'embed-token.issue',
  }),
});
