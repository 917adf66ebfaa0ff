import { describe, expect, it } from 'vitest';
import { decodeProtectedHeader, decodeJwt, importJWK, jwtVerify } from 'jose';
import { effectiveLifetime } from '#token/sign';
import { AUDIENCE, ISSUER, makeKey, NOW, NOW_S, tokenFixture, uniqueTenantId } from './fixtures.ts';

describe('signEmbedToken', () => {
  it('produces an ES256 compact JWS with typ embed+jwt, the kid and every claim', async () => {
    // Prepare
    const f = await tokenFixture();

    // Act
    const { token, jti, expiresAt } = await f.sign();

    // Assess
    expect(token.split('.')).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'embed+jwt', kid: f.key.kid });
    expect(decodeJwt(token)).toEqual({
      iss: 'https://embed.test.example',
      aud: 'secure-embed-test',
      sub: f.viewer.sub,
      tid: f.tenantId,
      eid: 'emb_sales',
      rsc: { type: 'dashboard', id: 'dash_sales' },
      prm: { region: 'EU' },
      jti,
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + 300,
    });
    expect(expiresAt).toBe(NOW_S + 300);
  });

  it('produces tokens that jose verifies independently', async () => {
    // Prepare
    const f = await tokenFixture();
    const { token, jti } = await f.sign();
    const publicKey = await importJWK({ ...f.key.publicJwk }, 'ES256');

    // Act
    const { protectedHeader, payload } = await jwtVerify(token, publicKey, {
      algorithms: ['ES256'],
      typ: 'embed+jwt',
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: f.viewer.sub,
      maxTokenAge: 600,
      currentDate: new Date(NOW),
      requiredClaims: ['iat', 'nbf', 'exp', 'jti'],
    });

    // Assess
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'embed+jwt', kid: f.key.kid });
    expect(payload).toMatchObject({ tid: f.tenantId, jti, prm: { region: 'EU' } });
  });

  it('uses at least 128 random bits per jti', async () => {
    const f = await tokenFixture();
    const jtis = new Set<string>();
    for (let i = 0; i < 50; i++) jtis.add((await f.sign()).jti);
    expect(jtis.size).toBe(50);
    for (const jti of jtis) expect(Buffer.from(jti, 'base64url')).toHaveLength(16);
  });

  it('defaults the lifetime to 5 minutes', async () => {
    const f = await tokenFixture();
    await expect(f.sign()).resolves.toMatchObject({ expiresAt: NOW_S + 300 });
  });

  it('signs up to the 10 minute cap', async () => {
    const f = await tokenFixture();
    await expect(f.sign({ lifetimeSeconds: 600 })).resolves.toMatchObject({ expiresAt: NOW_S + 600 });
  });

  it('refuses a lifetime over the hard cap instead of clipping it', async () => {
    const f = await tokenFixture();
    await expect(f.sign({ lifetimeSeconds: 601 })).rejects.toMatchObject({
      code: 'EMBED_TOKEN_LIFETIME_TOO_LONG',
      status: 400,
      details: { maxSeconds: 600 },
    });
  });

  it("refuses a lifetime over the embed's own maximum", async () => {
    const f = await tokenFixture();
    await expect(f.sign({ lifetimeSeconds: 121, maxLifetimeSeconds: 120 })).rejects.toMatchObject({
      code: 'EMBED_TOKEN_LIFETIME_TOO_LONG',
      details: { maxSeconds: 120 },
    });
  });

  it('refuses an embed maximum above the hard cap', async () => {
    const f = await tokenFixture();
    await expect(f.sign({ lifetimeSeconds: 60, maxLifetimeSeconds: 3600 })).rejects.toMatchObject({
      code: 'EMBED_TOKEN_LIFETIME_TOO_LONG',
      details: { maxSeconds: 600 },
    });
  });

  it.each([[0], [-5], [1.5], [Number.NaN]])('refuses lifetime %s as invalid', async (lifetimeSeconds) => {
    const f = await tokenFixture();
    await expect(f.sign({ lifetimeSeconds })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'lifetimeSeconds' },
    });
  });

  it.each([
    ['viewer.sub', { viewer: { sub: ' padded', tenantId: 'x' } }],
    ['embedId', { embedId: '../e' }],
    ['resource', { resource: { type: 'dataset', id: 'd' } as never }],
    ['params', { lockedParams: ['EU'] as never }],
  ])('refuses an invalid %s', async (field, overrides) => {
    const f = await tokenFixture();
    const input = 'viewer' in overrides ? { viewer: { ...overrides.viewer, tenantId: f.tenantId } } : overrides;
    await expect(f.sign(input)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
  });

  it("refuses to sign with another tenant's key", async () => {
    const f = await tokenFixture();
    const other = await makeKey(uniqueTenantId());
    await expect(f.sign({ signingKey: other.signingKey })).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });
});

describe('effectiveLifetime', () => {
  it('defaults to the embed maximum when it is below 5 minutes', () => {
    expect(effectiveLifetime(undefined, 120)).toBe(120);
  });
});
