import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '#shared/clients';
import { initialKeySet, RETIRED_KEYS_KEPT, withPendingKey, withPromotedKey } from '#keys/key-set';
import { makeKey, NOW, uniqueTenantId } from '../token/fixtures.ts';
import { keySetRepository } from './fixtures.ts';

const AT = new Date(NOW).toISOString();

describe('key set repository', () => {
  it('refuses a write based on a stale revision, so two rotations cannot interleave', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const repository = keySetRepository();
    const key1 = await makeKey(tenantId, 1);
    const set = initialKeySet(tenantId, { kid: key1.kid, jwk: key1.publicJwk, createdAt: AT }, AT);
    await repository.putKeySet(set, undefined);
    const key2 = await makeKey(tenantId, 2);
    const key3 = await makeKey(tenantId, 3);
    const first = withPendingKey(set, { kid: key2.kid, jwk: key2.publicJwk, createdAt: AT }, AT).set;
    const second = withPendingKey(set, { kid: key3.kid, jwk: key3.publicJwk, createdAt: AT }, AT).set;

    // Act
    await repository.putKeySet(first, set.revision);
    const lost = repository.putKeySet(second, set.revision);

    // Assess
    await expect(lost).rejects.toMatchObject({ code: 'CONFLICT', status: 409 });
    await expect(repository.putKeySet(set, undefined)).rejects.toMatchObject({ code: 'CONFLICT' });
    const stored = await repository.getKeySet(tenantId, { consistent: true });
    expect(stored?.keys.map((k) => [k.kid, k.status])).toEqual([
      [key1.kid, 'current'],
      [key2.kid, 'pending'],
    ]);
  });

  it('drops stored entries that are malformed, of another tenant, or carry a private key', async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const good = await makeKey(tenantId, 1);
    const leaked = await makeKey(tenantId, 2);
    const foreign = await makeKey(uniqueTenantId(), 3);
    const entry = (kid: string, jwk: unknown, status = 'current') => ({
      kid,
      alg: 'ES256',
      jwk,
      status,
      createdAt: AT,
    });
    await documentClient().send(
      new PutCommand({
        TableName: process.env.CONTROL_TABLE_NAME,
        Item: {
          pk: `TENANT#${tenantId}`,
          sk: 'SIGNING_KEYS',
          revision: 4,
          updatedAt: AT,
          keys: [
            entry(good.kid, good.publicJwk),
            entry(leaked.kid, leaked.privateJwk, 'previous'),
            entry(foreign.kid, foreign.publicJwk),
            entry(`${tenantId}.4`, { kty: 'oct', k: 'c2VjcmV0' }),
            entry(`${tenantId}.5`, good.publicJwk, 'trusted'),
            { ...entry(`${tenantId}.6`, good.publicJwk), alg: 'HS256' },
            'garbage',
          ],
        },
      }),
    );

    // Act
    const set = await keySetRepository().getKeySet(tenantId);

    // Assess
    expect(set).toEqual({
      tenantId,
      revision: 4,
      updatedAt: AT,
      keys: [{ kid: good.kid, alg: 'ES256', jwk: good.publicJwk, status: 'current', createdAt: AT }],
    });
  });
});

describe('key set transitions', () => {
  it(`keeps only the newest ${RETIRED_KEYS_KEPT} retired kids`, async () => {
    // Prepare
    const tenantId = uniqueTenantId();
    const keys = await Promise.all(Array.from({ length: 9 }, (_, i) => makeKey(tenantId, i + 1)));
    let set = initialKeySet(tenantId, { kid: keys[0]!.kid, jwk: keys[0]!.publicJwk, createdAt: AT }, AT);

    // Act: eight rotations
    for (const key of keys.slice(1)) {
      set = withPendingKey(set, { kid: key.kid, jwk: key.publicJwk, createdAt: AT }, AT).set;
      set = withPromotedKey(set, key.kid, AT).set;
    }

    // Assess
    expect(set.keys.map((k) => [k.kid, k.status])).toEqual([
      [`${tenantId}.3`, 'retired'],
      [`${tenantId}.4`, 'retired'],
      [`${tenantId}.5`, 'retired'],
      [`${tenantId}.6`, 'retired'],
      [`${tenantId}.7`, 'retired'],
      [`${tenantId}.8`, 'previous'],
      [`${tenantId}.9`, 'current'],
    ]);
    expect(set.revision).toBe(17);
  });

  it('refuses to promote a key that was never published', async () => {
    const tenantId = uniqueTenantId();
    const key = await makeKey(tenantId, 1);
    const set = initialKeySet(tenantId, { kid: key.kid, jwk: key.publicJwk, createdAt: AT }, AT);
    expect(() => withPromotedKey(set, `${tenantId}.2`, AT)).toThrow();
  });
});
