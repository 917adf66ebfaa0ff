import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  InternalServiceError,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createPublicKeyDirectory } from '#keys/public-key-directory';
import { createSigningKeyStore } from '#keys/signing-key-store';
import type { PublishedKeySet } from '#keys/types';
import { signEmbedToken } from '#token/sign';
import { verifyEmbedToken } from '#token/verify';
import { AUDIENCE, countingSource, ISSUER, keySetOf, makeKey, NOW, uniqueTenantId } from '../token/fixtures.ts';
import { clock, countingReads, keySetRepository, onboard, PREFIX } from './fixtures.ts';
import { useLocalSecretsManager } from './local-secrets-manager.ts';

const sm = useLocalSecretsManager();

describe('a flood of random kids', () => {
  it('costs at most a handful of key reads and no Secrets Manager call on the validator side', async () => {
    // Prepare: an onboarded tenant; one real token signed through the signer store
    const tenantId = uniqueTenantId();
    const time = clock(NOW);
    await onboard(tenantId, time.now);
    const store = createSigningKeyStore({ secrets: new SecretsManagerClient({}), prefix: PREFIX, now: time.now });
    const viewer = { sub: 'viewer-1', tenantId };
    const sign = async () =>
      (
        await signEmbedToken({
          signingKey: await store.getSigningKey(tenantId),
          issuer: ISSUER,
          audience: AUDIENCE,
          viewer,
          embedId: 'e1',
          resource: { type: 'dashboard', id: 'd1' },
          now: time.now(),
        })
      ).token;
    const genuine = await sign();
    const source = countingReads(keySetRepository());
    const keys = createPublicKeyDirectory({ source, now: time.now });
    const [, payload, signature] = genuine.split('.');
    const secretReadsBefore = sm.calls('GetSecretValue');

    // Act: 1,000 tokens with random kids of the caller's tenant over 30 s, plus 1,000 signatures
    const codes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const header = Buffer.from(
        JSON.stringify({ alg: 'ES256', typ: 'embed+jwt', kid: `${tenantId}.${1 + Math.floor(Math.random() * 1e8)}` }),
      ).toString('base64url');
      const error = await verifyEmbedToken(`${header}.${payload}.${signature}`, viewer, {
        keys,
        issuer: ISSUER,
        audience: AUDIENCE,
        now: time.now,
      }).catch((e: { code: string }) => e);
      codes.set((error as { code: string }).code, (codes.get((error as { code: string }).code) ?? 0) + 1);
      await sign();
      time.advance(30);
    }

    // Assess: one read, then at most one refresh per 10 s; the signer read its secret once
    expect(Object.fromEntries(codes)).toEqual({ EMBED_TOKEN_KEY_UNKNOWN: 1000 });
    expect(source.reads).toBeLessThanOrEqual(4);
    expect(sm.calls('GetSecretValue') - secretReadsBefore).toBe(0);
    expect(sm.calls('GetSecretValue')).toBe(1);
  });

  it('reads a tenant without a key set once (negative caching)', async () => {
    const source = countingSource(new Map());
    const keys = createPublicKeyDirectory({ source, now: () => NOW });
    const tenantId = uniqueTenantId();
    for (let i = 0; i < 1000; i++) {
      await expect(keys.resolve(tenantId, `${tenantId}.${i + 1}`)).rejects.toMatchObject({
        code: 'EMBED_TOKEN_KEY_UNKNOWN',
      });
    }
    expect(source.reads).toBe(1);
  });

  it('shares one in-flight read among concurrent misses of a tenant', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const key = await makeKey(tenantId);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reads = 0;
    const keys = createPublicKeyDirectory({
      source: {
        async getKeySet() {
          reads++;
          await gate;
          return keySetOf(tenantId, [[key, 'current']]);
        },
      },
      now: () => NOW,
    });

    // Act
    const pending = Array.from({ length: 200 }, (_, i) => keys.resolve(tenantId, i % 2 ? key.kid : `${tenantId}.9`));
    release();
    const results = await Promise.allSettled(pending);

    // Assess
    expect(reads).toBe(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
  });
});

describe('createPublicKeyDirectory', () => {
  it('learns a newly published kid on the first miss after the refresh interval', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const key1 = await makeKey(tenantId, 1);
    const key2 = await makeKey(tenantId, 2);
    const sets = new Map<string, PublishedKeySet>([[tenantId, keySetOf(tenantId, [[key1, 'current']])]]);
    const source = countingSource(sets);
    const time = clock(NOW);
    const keys = createPublicKeyDirectory({ source, now: time.now });
    await keys.resolve(tenantId, key1.kid);
    sets.set(
      tenantId,
      keySetOf(
        tenantId,
        [
          [key1, 'current'],
          [key2, 'pending'],
        ],
        2,
      ),
    );

    // Act + Assess
    time.advance(9_999);
    await expect(keys.resolve(tenantId, key2.kid)).rejects.toMatchObject({ code: 'EMBED_TOKEN_KEY_UNKNOWN' });
    time.advance(1);
    await expect(keys.resolve(tenantId, key2.kid)).resolves.toMatchObject({ kid: key2.kid, status: 'pending' });
    expect(source.reads).toBe(2);
  });

  it('re-reads after the 5 minute TTL (a retirement is seen within one TTL)', async () => {
    const tenantId = uniqueTenantId();
    const key1 = await makeKey(tenantId, 1);
    const sets = new Map<string, PublishedKeySet>([[tenantId, keySetOf(tenantId, [[key1, 'previous']])]]);
    const source = countingSource(sets);
    const time = clock(NOW);
    const keys = createPublicKeyDirectory({ source, now: time.now });
    await keys.resolve(tenantId, key1.kid);
    sets.set(tenantId, keySetOf(tenantId, [[key1, 'retired']], 2));

    time.advance(5 * 60_000 - 1);
    await expect(keys.resolve(tenantId, key1.kid)).resolves.toMatchObject({ status: 'previous' });
    time.advance(1);
    await expect(keys.resolve(tenantId, key1.kid)).rejects.toMatchObject({ code: 'EMBED_TOKEN_KEY_RETIRED' });
    expect(source.reads).toBe(2);
  });

  it('serves the stale set while the source fails, and fails closed without one', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const key1 = await makeKey(tenantId, 1);
    let failing = false;
    let reads = 0;
    const time = clock(NOW);
    const keys = createPublicKeyDirectory({
      source: {
        async getKeySet(t) {
          reads++;
          if (failing) throw new Error('DynamoDB unavailable');
          return t === tenantId ? keySetOf(tenantId, [[key1, 'current']]) : undefined;
        },
      },
      now: time.now,
    });
    await keys.resolve(tenantId, key1.kid);
    failing = true;
    time.advance(5 * 60_000);

    // Act + Assess
    await expect(keys.resolve(tenantId, key1.kid)).resolves.toMatchObject({ kid: key1.kid });
    const other = uniqueTenantId();
    await expect(keys.resolve(other, `${other}.1`)).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: 503,
    });
    await expect(keys.resolve(other, `${other}.1`)).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(reads).toBe(3);
  });

  it('refuses a tenant id that is not one without reading', async () => {
    const source = countingSource(new Map());
    const keys = createPublicKeyDirectory({ source, now: () => NOW });
    await expect(keys.resolve('../x', '../x.1')).rejects.toMatchObject({ code: 'EMBED_TOKEN_KEY_UNKNOWN' });
    expect(source.reads).toBe(0);
  });
});

describe('createSigningKeyStore', () => {
  it('reads the current secret once per TTL and keeps the imported key', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const time = clock(NOW);
    await onboard(tenantId, time.now);
    const store = createSigningKeyStore({ secrets: new SecretsManagerClient({}), prefix: PREFIX, now: time.now });

    // Act
    const first = await store.getSigningKey(tenantId);
    const concurrent = await Promise.all(Array.from({ length: 100 }, () => store.getSigningKey(tenantId)));
    time.advance(5 * 60_000 - 1);
    await store.getSigningKey(tenantId);
    const readsWithinTtl = sm.calls('GetSecretValue');
    time.advance(1);
    const afterTtl = await store.getSigningKey(tenantId);

    // Assess
    expect(first).toMatchObject({ kid: `${tenantId}.1`, alg: 'ES256', tenantId });
    expect(concurrent.every((k) => k === first)).toBe(true);
    expect(readsWithinTtl).toBe(1);
    expect(sm.calls('GetSecretValue')).toBe(2);
    expect(afterTtl.privateKey).toBe(first.privateKey);
    expect(sm.inputs('GetSecretValue')[0]).toEqual({
      SecretId: `${PREFIX}${tenantId}`,
      VersionStage: 'AWSCURRENT',
    });
  });

  it('answers TENANT_NOT_ONBOARDED and remembers it for 10 s', async () => {
    const time = clock(NOW);
    const store = createSigningKeyStore({ secrets: new SecretsManagerClient({}), prefix: PREFIX, now: time.now });
    const tenantId = uniqueTenantId();
    for (let i = 0; i < 100; i++) {
      await expect(store.getSigningKey(tenantId)).rejects.toMatchObject({ code: 'TENANT_NOT_ONBOARDED', status: 409 });
    }
    expect(sm.calls('GetSecretValue')).toBe(1);
    time.advance(10_000);
    await expect(store.getSigningKey(tenantId)).rejects.toMatchObject({ code: 'TENANT_NOT_ONBOARDED' });
    expect(sm.calls('GetSecretValue')).toBe(2);
  });

  it('maps a failing Secrets Manager to DEPENDENCY_UNAVAILABLE with the cause', async () => {
    // The service failing is injected on this one client.
    const secrets = new SecretsManagerClient({});
    mockClient(secrets)
      .on(GetSecretValueCommand)
      .rejects(new InternalServiceError({ message: 'Rate exceeded', $metadata: {} }));
    const store = createSigningKeyStore({ secrets, prefix: PREFIX, now: () => NOW });
    const error = await store.getSigningKey(uniqueTenantId()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
    expect((error as Error).cause).toBeInstanceOf(InternalServiceError);
  });

  it('refuses a secret that belongs to another tenant', async () => {
    // Prepare: tenant B's secret value copied under tenant A's name
    const a = uniqueTenantId();
    const b = uniqueTenantId();
    await onboard(b, () => NOW);
    const secrets = new SecretsManagerClient({});
    const bValue = (await secrets.send(new GetSecretValueCommand({ SecretId: `${PREFIX}${b}` }))).SecretString;
    await secrets.send(new CreateSecretCommand({ Name: `${PREFIX}${a}`, SecretString: bValue }));
    const store = createSigningKeyStore({ secrets: new SecretsManagerClient({}), prefix: PREFIX, now: () => NOW });

    // Act + Assess
    const error = await store.getSigningKey(a).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'An internal error occurred.' });
  });
});
