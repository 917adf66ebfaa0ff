import { describe, expect, it } from 'vitest';
import { ENV } from '../../lib/functions.ts';
import { applyLocalHandlerEnv, localHandlerEnv } from '../../local/env.ts';

describe('localHandlerEnv', () => {
  const input = {
    dynamoEndpoint: 'http://127.0.0.1:8000',
    secretsManagerEndpoint: 'http://127.0.0.1:8001',
    userPoolId: 'local_TEST',
    cognitoEndpoint: 'http://127.0.0.1:9229',
    stsEndpoint: 'http://127.0.0.1:8002',
    allowedOrigins: ['http://localhost:5173', 'http://127.0.0.1:5173'],
    viewerBaseUrl: 'http://127.0.0.1:4000/',
  };

  it('points the SDK at the local stand-ins through its standard endpoint variables', () => {
    const env = localHandlerEnv(input);
    expect(env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:8001',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:8002',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
  });

  it('sets every variable the CDK constructs set, with the stage defaults of lib/config.ts', () => {
    const env = localHandlerEnv(input);
    for (const name of Object.values(ENV)) expect(env[name], name).toEqual(expect.any(String));
    expect(env).toMatchObject({
      CONTROL_TABLE_NAME: 'secure-embed-local-control',
      DATA_TABLE_NAME: 'secure-embed-local-data',
      SIGNING_KEY_SECRET_PREFIX: 'embed/signing-keys/local/',
      TOKEN_ISSUER: 'urn:secure-embed:local',
      TOKEN_AUDIENCE: 'urn:secure-embed:local:viewer',
      VIEWER_BASE_URL: 'http://127.0.0.1:4000',
      ALLOWED_ORIGINS: 'http://localhost:5173,http://127.0.0.1:5173',
      TENANT_DATA_ROLE_ARN: 'arn:aws:iam::000000000000:role/secure-embed-local-tenant-data-reader',
    });
  });

  it('applies the environment and drops shell settings that would redirect the SDK', () => {
    const target: NodeJS.ProcessEnv = { AWS_PROFILE: 'prod', AWS_SESSION_TOKEN: 'x', KEEP: 'yes' };
    applyLocalHandlerEnv(localHandlerEnv({ ...input, controlTableName: 'test-control' }), target);
    expect(target.AWS_PROFILE).toBeUndefined();
    expect(target.AWS_SESSION_TOKEN).toBeUndefined();
    expect(target).toMatchObject({ KEEP: 'yes', CONTROL_TABLE_NAME: 'test-control' });
  });
});
