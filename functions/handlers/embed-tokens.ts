import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { issueEmbedTokenBody } from '../api/schemas.ts';
import { createEmbedTokenIssuer } from '../embed/issue-token.ts';
import { createCognitoViewerDirectory } from '../embed/viewer-directory.ts';
import { createApiHandler } from '../http/api-handler.ts';
import { controlRepositories } from '../http/control-repositories.ts';
import { auditRefusals, createObservability } from '../http/observability.ts';
import { parseBody } from '../http/request.ts';
import { secretsManagerClient } from '#shared/clients';
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
const repositories = controlRepositories(config.controlTable);
const issue = createEmbedTokenIssuer({
  embeds: repositories.embeds,
  dashboards: repositories.dashboards,
  audit: repositories.audit,
  keys: createSigningKeyStore({ secrets: secretsManagerClient(), prefix: config.secretPrefix }),
  viewers: createCognitoViewerDirectory({
    cognito: new CognitoIdentityProviderClient({}),
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
    audit: repositories.audit,
    metrics,
    logger,
    actions: {},
    fallback: 'embed-token.issue',
  }),
});
