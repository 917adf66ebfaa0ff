import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createPublicKeyDirectory } from '#keys/public-key-directory';
import { createSigningKeyRotation, type RotationStep } from '#keys/rotation';
import { createSigningKeyStore } from '#keys/signing-key-store';
import { signEmbedToken } from '#token/sign';
import { verifyEmbedToken } from '#token/verify';
import { AUDIENCE, ISSUER, NOW, uniqueTenantId } from '../token/fixtures.ts';
import { clock, keySetRepository, onboard, PREFIX } from './fixtures.ts';
import { useLocalSecretsManager } from './local-secrets-manager.ts';

const STEPS: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const MINUTE = 60_000;

const sm = useLocalSecretsManager();

type RotationFixture = Awaited<ReturnType<typeof rotationFixture>>;

/** An onboarded tenant, its rotation runner, a signer store and a validator directory on one clock. */
async function rotationFixture() {
  const tenantId = uniqueTenantId();
  const time = clock(NOW);
  const { secretArn } = await onboard(tenantId, time.now);
  const secrets = new SecretsManagerClient({});
  const rotation = createSigningKeyRotation({ secrets, keySets: keySetRepository(), prefix: PREFIX, now: time.now });
  const viewer = { sub: 'viewer-1', tenantId };
  const newStore = () => createSigningKeyStore({ secrets, prefix: PREFIX, now: time.now });
  const newDirectory = () => createPublicKeyDirectory({ source: keySetRepository(), now: time.now });

  return {
    tenantId,
    secretArn,
    time,
    rotation,
    viewer,
    newStore,
    newDirectory,
    /** A whole rotation: RotateSecret, the service running each step through the rotation. */
    rotate() {
      return sm.rotate(secretArn, (event) =>
        rotation.runStep({ step: event.Step, secretId: event.SecretId, clientRequestToken: event.ClientRequestToken }),
      );
    },
    async signNow(lifetimeSeconds = 600) {
      return (
        await signEmbedToken({
          signingKey: await newStore().getSigningKey(tenantId),
          issuer: ISSUER,
          audience: AUDIENCE,
          viewer,
          embedId: 'e1',
          resource: { type: 'dashboard', id: 'd1' },
          lifetimeSeconds,
          now: time.now(),
        })
      ).token;
    },
    async signWith(signingKey: Awaited<ReturnType<ReturnType<typeof newStore>['getSigningKey']>>) {
      return (
        await signEmbedToken({
          signingKey,
          issuer: ISSUER,
          audience: AUDIENCE,
          viewer,
          embedId: 'e1',
          resource: { type: 'dashboard', id: 'd1' },
          now: time.now(),
        })
      ).token;
    },
    verify(token: string, keys = newDirectory()) {
      return verifyEmbedToken(token, viewer, { keys, issuer: ISSUER, audience: AUDIENCE, now: time.now });
    },
    statuses: async () =>
      Object.fromEntries(
        ((await keySetRepository().getKeySet(tenantId, { consistent: true }))?.keys ?? []).map((k) => [
          k.kid,
          k.status,
        ]),
      ),
  };
}

describe('signing key rotation', () => {
  it('runs the four steps: new key pending, tested, then current with the old one previous', async () => {
    // Prepare
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);

    // Act
    const token = await sm.startRotation(f.secretArn);
    const outcomes = [];
    for (const step of STEPS)
      outcomes.push(await f.rotation.runStep({ step, secretId: f.secretArn, clientRequestToken: token }));

    // Assess
    expect(outcomes.map((o) => o.result)).toEqual(['created', 'published', 'tested', 'finished']);
    expect(outcomes.every((o) => o.kid === `${f.tenantId}.2`)).toBe(true);
    expect(await f.statuses()).toEqual({ [`${f.tenantId}.1`]: 'previous', [`${f.tenantId}.2`]: 'current' });
    const stages = Object.fromEntries(
      Object.entries(await sm.stages(f.secretArn)).map(([id, labels]) => [id, [...labels].sort()]),
    );
    expect(stages[token]).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(Object.values(stages)).toContainEqual(['AWSPREVIOUS']);
    await expect(f.newStore().getSigningKey(f.tenantId)).resolves.toMatchObject({ kid: `${f.tenantId}.2` });
  });

  it('publishes the pending key before anything can sign with it', async () => {
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const token = await sm.startRotation(f.secretArn);
    await f.rotation.runStep({ step: 'createSecret', secretId: f.secretArn, clientRequestToken: token });
    await f.rotation.runStep({ step: 'setSecret', secretId: f.secretArn, clientRequestToken: token });
    expect(await f.statuses()).toEqual({ [`${f.tenantId}.1`]: 'current', [`${f.tenantId}.2`]: 'pending' });
    // The signer still signs with the current key until finishSecret.
    await expect(f.newStore().getSigningKey(f.tenantId)).resolves.toMatchObject({ kid: `${f.tenantId}.1` });
  });

  it('keeps tokens of the previous key valid until they expire and refuses a retired key', async () => {
    // Prepare: a signer caches key 1 and signs a token just before the rotation
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const key1 = await f.newStore().getSigningKey(f.tenantId);
    const beforeRotation = await f.signWith(key1);

    // Act
    f.time.advance(MINUTE);
    await f.rotate();
    f.time.advance(MINUTE);

    // Assess: key 1 is previous; its live tokens, and those of a signer still caching it, verify
    await expect(f.verify(beforeRotation)).resolves.toMatchObject({ kid: `${f.tenantId}.1`, keyStatus: 'previous' });
    await expect(f.verify(await f.signWith(key1))).resolves.toMatchObject({ keyStatus: 'previous' });
    await expect(f.verify(await f.signNow())).resolves.toMatchObject({ kid: `${f.tenantId}.2`, keyStatus: 'current' });

    // Act: the next rotation retires key 1
    f.time.advance(20 * MINUTE);
    await f.rotate();

    // Assess
    expect(await f.statuses()).toEqual({
      [`${f.tenantId}.1`]: 'retired',
      [`${f.tenantId}.2`]: 'previous',
      [`${f.tenantId}.3`]: 'current',
    });
    await expect(f.verify(await f.signWith(key1))).rejects.toMatchObject({
      code: 'EMBED_TOKEN_KEY_RETIRED',
      status: 401,
    });
  });

  it('makes every step idempotent when Secrets Manager retries it', async () => {
    // Prepare
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const token = await sm.startRotation(f.secretArn);

    // Act: each step twice
    const results = [];
    for (const step of STEPS) {
      for (let attempt = 0; attempt < 2; attempt++) {
        results.push((await f.rotation.runStep({ step, secretId: f.secretArn, clientRequestToken: token })).result);
      }
    }

    // Assess
    expect(results).toEqual([
      'created',
      'pending-exists',
      'published',
      'already-published',
      'tested',
      'tested',
      'finished',
      'already-finished',
    ]);
    expect(sm.calls('PutSecretValue')).toBe(1);
    expect(sm.calls('UpdateSecretVersionStage')).toBe(1);
    const set = await keySetRepository().getKeySet(f.tenantId, { consistent: true });
    expect(set?.revision).toBe(3);
  });

  it('completes the key set on a finishSecret retried after the stage already moved', async () => {
    // Prepare: the stage moved but publishing failed (simulated by moving the stage by hand)
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const token = await sm.startRotation(f.secretArn);
    for (const step of STEPS.slice(0, 3))
      await f.rotation.runStep({ step, secretId: f.secretArn, clientRequestToken: token });
    const current = Object.entries(await sm.stages(f.secretArn)).find(([, labels]) =>
      labels.includes('AWSCURRENT'),
    )![0];
    await new SecretsManagerClient({}).send(
      new UpdateSecretVersionStageCommand({
        SecretId: f.secretArn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: current,
      }),
    );

    // Act
    const outcome = await f.rotation.runStep({
      step: 'finishSecret',
      secretId: f.secretArn,
      clientRequestToken: token,
    });

    // Assess
    expect(outcome.result).toBe('finished');
    expect(await f.statuses()).toEqual({ [`${f.tenantId}.1`]: 'previous', [`${f.tenantId}.2`]: 'current' });
  });

  it('refuses to start a rotation sooner than one token lifetime plus one cache TTL after the last', async () => {
    const f = await rotationFixture();
    f.time.advance(14 * MINUTE);
    const token = await sm.startRotation(f.secretArn);
    await expect(
      f.rotation.runStep({ step: 'createSecret', secretId: f.secretArn, clientRequestToken: token }),
    ).rejects.toMatchObject({ code: 'ROTATION_TOO_SOON', status: 409 });
    expect(sm.calls('PutSecretValue')).toBe(0);
  });

  it('never reuses the kid of an abandoned pending key', async () => {
    // Prepare: a rotation published key 2 as pending, then was abandoned
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const abandoned = await sm.startRotation(f.secretArn);
    for (const step of STEPS.slice(0, 2)) {
      await f.rotation.runStep({ step, secretId: f.secretArn, clientRequestToken: abandoned });
    }
    // Abandoning it means clearing its AWSPENDING label, as AWS documents; until then RotateSecret refuses.
    await new SecretsManagerClient({}).send(
      new UpdateSecretVersionStageCommand({
        SecretId: f.secretArn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: abandoned,
      }),
    );

    // Act
    await f.rotate();

    // Assess
    expect(await f.statuses()).toEqual({
      [`${f.tenantId}.1`]: 'previous',
      [`${f.tenantId}.2`]: 'retired',
      [`${f.tenantId}.3`]: 'current',
    });
  });

  it('fails testSecret when the pending key was not published', async () => {
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const token = await sm.startRotation(f.secretArn);
    await f.rotation.runStep({ step: 'createSecret', secretId: f.secretArn, clientRequestToken: token });
    await expect(
      f.rotation.runStep({ step: 'testSecret', secretId: f.secretArn, clientRequestToken: token }),
    ).rejects.toMatchObject({ code: 'SIGNING_KEY_ROTATION_FAILED' });
  });

  it.each<[string, (f: RotationFixture) => Promise<{ secretId: string; token: string }>]>([
    [
      'rotation is not enabled',
      async () => {
        // A tenant's signing key secret on which rotation was never turned on, with a pending version.
        const secrets = new SecretsManagerClient({});
        const created = await secrets.send(
          new CreateSecretCommand({ Name: `${PREFIX}${uniqueTenantId()}`, SecretString: '{}' }),
        );
        const token = randomUUID();
        await secrets.send(
          new PutSecretValueCommand({
            SecretId: created.ARN,
            ClientRequestToken: token,
            SecretString: '{}',
            VersionStages: ['AWSPENDING'],
          }),
        );
        return { secretId: created.ARN!, token };
      },
    ],
    ['the version is unknown', async (f) => ({ secretId: f.secretArn, token: '00000000-0000-4000-8000-000000000000' })],
    [
      'the version is neither pending nor current',
      async (f) => {
        const token = randomUUID();
        await new SecretsManagerClient({}).send(
          new PutSecretValueCommand({
            SecretId: f.secretArn,
            ClientRequestToken: token,
            SecretString: '{}',
            VersionStages: ['AWSPREVIOUS'],
          }),
        );
        return { secretId: f.secretArn, token };
      },
    ],
  ])('refuses to run a step when %s', async (_name, prepare) => {
    const f = await rotationFixture();
    f.time.advance(20 * MINUTE);
    const { secretId, token } = await prepare(f);
    await expect(
      f.rotation.runStep({ step: 'createSecret', secretId, clientRequestToken: token }),
    ).rejects.toMatchObject({ code: 'SIGNING_KEY_ROTATION_FAILED' });
  });

  it('refuses to rotate a secret outside the signing key prefix', async () => {
    const f = await rotationFixture();
    const rotation = createSigningKeyRotation({
      secrets: new SecretsManagerClient({}),
      keySets: keySetRepository(),
      prefix: 'other/prefix/',
      now: f.time.now,
    });
    const token = await sm.startRotation(f.secretArn);
    await expect(
      rotation.runStep({ step: 'createSecret', secretId: f.secretArn, clientRequestToken: token }),
    ).rejects.toMatchObject({ code: 'SIGNING_KEY_ROTATION_FAILED' });
  });
});
