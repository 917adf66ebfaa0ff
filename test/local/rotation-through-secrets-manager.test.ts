import { SecretsManagerClient, DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableGateway } from '#control/table-gateway';
import { createKeySetRepository } from '#keys/key-set';
import { createTenantSigningKey } from '#keys/onboarding';
import { createPublicKeyDirectory } from '#keys/public-key-directory';
import { createSigningKeyRotation } from '#keys/rotation';
import { createSigningKeyStore } from '#keys/signing-key-store';
import { documentClient } from '#shared/clients';
import { signEmbedToken } from '#token/sign';
import { verifyEmbedToken } from '#token/verify';
import { localCredentials } from '../../local/dynamodb.ts';
import { type LocalSecretsManager, startLocalSecretsManager } from '../../local/secrets-manager.ts';

const PREFIX = 'embed/signing-keys/rotation-it/';
const TENANT = `rot-${Date.now().toString(36)}`;
let clock = Date.now();
let server: LocalSecretsManager;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  server = await startLocalSecretsManager();
  secrets = new SecretsManagerClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: localCredentials(),
  });
  const keySets = createKeySetRepository({
    table: new TableGateway(documentClient(), process.env.CONTROL_TABLE_NAME ?? 'test-control'),
  });
  const rotation = createSigningKeyRotation({ secrets, keySets, prefix: PREFIX, now: () => clock });
  server.setRotationHandler(async (event) => {
    await rotation.runStep({
      step: event.Step as never,
      secretId: event.SecretId,
      clientRequestToken: event.ClientRequestToken,
    });
  });
});
afterAll(async () => {
  secrets?.destroy();
  await server?.close();
});

describe('key rotation through the local Secrets Manager (the RotateSecret path the admin API takes)', () => {
  it('rotates with no downtime: the previous key stays valid, the one before is retired', async () => {
    // Prepare: onboard, sign a token with key 1.
    const keySets = createKeySetRepository({
      table: new TableGateway(documentClient(), process.env.CONTROL_TABLE_NAME ?? 'test-control'),
    });
    await createTenantSigningKey({
      secrets,
      keySets,
      prefix: PREFIX,
      tenantId: TENANT,
      rotationLambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:rotate',
      schedule: { rotationDays: 30 },
      now: () => clock,
    });
    const sign = async () => {
      const store = createSigningKeyStore({ secrets, prefix: PREFIX, ttlMs: 0 });
      return signEmbedToken({
        signingKey: await store.getSigningKey(TENANT),
        issuer: 'iss',
        audience: 'aud',
        viewer: { sub: 'viewer-1', tenantId: TENANT },
        embedId: 'e1',
        resource: { type: 'dashboard', id: 'd1' },
        now: Date.now(),
      });
    };
    const verify = (token: string) =>
      verifyEmbedToken(
        token,
        { sub: 'viewer-1', tenantId: TENANT },
        {
          keys: createPublicKeyDirectory({ source: keySets, ttlMs: 0, refreshIntervalMs: 0 }),
          issuer: 'iss',
          audience: 'aud',
        },
      );
    const first = await sign();

    // Act: two rotations, each past the minimum interval.
    clock += 16 * 60_000;
    await secrets.send(new RotateSecretCommand({ SecretId: `${PREFIX}${TENANT}` }));
    const second = await sign();
    const afterFirstRotation = await verify(first.token);
    clock += 16 * 60_000;
    await secrets.send(new RotateSecretCommand({ SecretId: `${PREFIX}${TENANT}` }));

    // Assess
    expect(afterFirstRotation.kid).toBe(`${TENANT}.1`);
    expect(afterFirstRotation.keyStatus).toBe('previous');
    expect((await verify(second.token)).keyStatus).toBe('previous');
    await expect(verify(first.token)).rejects.toMatchObject({ code: 'EMBED_TOKEN_KEY_RETIRED' });
    expect((await verify((await sign()).token)).kid).toBe(`${TENANT}.3`);
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: `${PREFIX}${TENANT}` }));
    const stages = Object.values(described.VersionIdsToStages ?? {})
      .flat()
      .sort();
    expect(stages).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });
});
