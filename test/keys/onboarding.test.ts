import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createTenantSigningKey } from '#keys/onboarding';
import { createPublicKeyDirectory } from '#keys/public-key-directory';
import { createSigningKeyStore } from '#keys/signing-key-store';
import { signEmbedToken } from '#token/sign';
import { verifyEmbedToken } from '#token/verify';
import { AUDIENCE, ISSUER, NOW, uniqueTenantId } from '../token/fixtures.ts';
import { keySetRepository, onboard, PREFIX, ROTATION_LAMBDA_ARN } from './fixtures.ts';
import { useLocalSecretsManager } from './local-secrets-manager.ts';

const sm = useLocalSecretsManager();

describe('createTenantSigningKey', () => {
  it('creates the secret with key 1 as AWSCURRENT, publishes its public key and turns on rotation', async () => {
    // Prepare
    const tenantId = uniqueTenantId();

    // Act
    const created = await onboard(tenantId, () => NOW);

    // Assess
    expect(created.kid).toBe(`${tenantId}.1`);
    const create = sm.inputs('CreateSecret')[0]!;
    expect(create.Name).toBe(`${PREFIX}${tenantId}`);
    expect(create.Tags).toEqual([{ Key: 'tenant', Value: tenantId }]);
    const secretValue = JSON.parse(create.SecretString!);
    expect(secretValue).toMatchObject({ kid: `${tenantId}.1`, alg: 'ES256', createdAt: new Date(NOW).toISOString() });
    expect(Object.keys(secretValue.privateJwk).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y']);

    const set = await keySetRepository().getKeySet(tenantId, { consistent: true });
    expect(set?.revision).toBe(1);
    expect(set?.keys).toEqual([
      {
        kid: `${tenantId}.1`,
        alg: 'ES256',
        jwk: { kty: 'EC', crv: 'P-256', x: secretValue.privateJwk.x, y: secretValue.privateJwk.y },
        status: 'current',
        createdAt: new Date(NOW).toISOString(),
        activatedAt: new Date(NOW).toISOString(),
      },
    ]);

    expect(sm.inputs('RotateSecret')[0]).toEqual({
      SecretId: created.secretArn,
      RotationLambdaARN: ROTATION_LAMBDA_ARN,
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediately: false,
      ClientRequestToken: expect.any(String),
    });
    // No rotation ran: key 1 is the only version.
    expect(await sm.stages(created.secretArn)).toEqual({ [create.ClientRequestToken!]: ['AWSCURRENT'] });
  });

  it('yields a key the signer signs with and validators verify with', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    await onboard(tenantId, () => NOW);
    const store = createSigningKeyStore({ secrets: new SecretsManagerClient({}), prefix: PREFIX, now: () => NOW });
    const keys = createPublicKeyDirectory({ source: keySetRepository(), now: () => NOW });
    const viewer = { sub: 'viewer-1', tenantId };

    // Act
    const { token } = await signEmbedToken({
      signingKey: await store.getSigningKey(tenantId),
      issuer: ISSUER,
      audience: AUDIENCE,
      viewer,
      embedId: 'e1',
      resource: { type: 'chart', id: 'c1' },
      now: NOW,
    });

    // Assess
    await expect(
      verifyEmbedToken(token, viewer, { keys, issuer: ISSUER, audience: AUDIENCE, now: () => NOW }),
    ).resolves.toMatchObject({
      kid: `${tenantId}.1`,
      keyStatus: 'current',
    });
  });

  it('refuses a tenant that already has a signing key', async () => {
    const tenantId = uniqueTenantId();
    await onboard(tenantId, () => NOW);
    await expect(onboard(tenantId, () => NOW)).rejects.toMatchObject({ code: 'CONFLICT', status: 409 });
  });

  it('accepts a schedule expression', async () => {
    const tenantId = uniqueTenantId();
    await createTenantSigningKey({
      secrets: new SecretsManagerClient({}),
      keySets: keySetRepository(),
      prefix: PREFIX,
      tenantId,
      rotationLambdaArn: ROTATION_LAMBDA_ARN,
      schedule: { scheduleExpression: 'rate(7 days)' },
      now: () => NOW,
    });
    expect(sm.inputs('RotateSecret')[0]!.RotationRules).toEqual({
      ScheduleExpression: 'rate(7 days)',
    });
  });

  it.each([
    ['an invalid tenant id', { tenantId: '../other' }, 'tenantId'],
    ['zero rotation days', { schedule: { rotationDays: 0 } }, 'rotationDays'],
    ['a bad schedule expression', { schedule: { scheduleExpression: 'every day' } }, 'scheduleExpression'],
  ])('refuses %s before creating anything', async (_name, overrides, field) => {
    await expect(
      createTenantSigningKey({
        secrets: new SecretsManagerClient({}),
        keySets: keySetRepository(),
        prefix: PREFIX,
        tenantId: uniqueTenantId(),
        rotationLambdaArn: ROTATION_LAMBDA_ARN,
        schedule: { rotationDays: 30 },
        now: () => NOW,
        ...overrides,
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
    expect(sm.calls('CreateSecret')).toBe(0);
  });
});
