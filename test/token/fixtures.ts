import { createPrivateKey, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { generateSigningKeyPair, importSigningKey } from '#keys/key-material';
import { createPublicKeyDirectory } from '#keys/public-key-directory';
import type { KeySetSource, KeyStatus, PrivateJwk, PublicJwk, PublishedKeySet, SigningKey } from '#keys/types';
import { signEs256 } from '#token/es256';
import { signEmbedToken, type SignEmbedTokenInput } from '#token/sign';
import { type TokenPresenter, verifyEmbedToken } from '#token/verify';

/** Frozen time for every token test: 2025-01-15T12:00:00Z. */
export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const NOW_S = NOW / 1000;
export const ISSUER = 'https://embed.test.example';
export const AUDIENCE = 'secure-embed-test';

/** Order n of the P-256 group, written out here independently of the signer's constant. */
export const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A tenant id no other test uses. */
export function uniqueTenantId(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

/** One generated key of a tenant, in every form the tests need. */
export interface TestKey {
  readonly kid: string;
  readonly privateJwk: PrivateJwk;
  readonly publicJwk: PublicJwk;
  readonly signingKey: SigningKey;
  readonly privateKeyObject: KeyObject;
}

export async function makeKey(tenantId: string, generation = 1): Promise<TestKey> {
  const { privateJwk, publicJwk } = await generateSigningKeyPair();
  const kid = `${tenantId}.${generation}`;
  return {
    kid,
    privateJwk,
    publicJwk,
    signingKey: { kid, alg: 'ES256', tenantId, privateKey: importSigningKey(privateJwk) },
    privateKeyObject: createPrivateKey({ key: { ...privateJwk }, format: 'jwk' }),
  };
}

/** A published key set from keys and their statuses. */
export function keySetOf(
  tenantId: string,
  entries: ReadonlyArray<[TestKey, KeyStatus]>,
  revision = 1,
): PublishedKeySet {
  return {
    tenantId,
    keys: entries.map(([key, status]) => ({
      kid: key.kid,
      alg: 'ES256' as const,
      jwk: key.publicJwk,
      status,
      createdAt: new Date(NOW - 86_400_000).toISOString(),
    })),
    revision,
    updatedAt: new Date(NOW).toISOString(),
  };
}

/** An in-memory key set source that counts its reads. */
export function countingSource(sets: Map<string, PublishedKeySet>): KeySetSource & { reads: number } {
  const source = {
    reads: 0,
    async getKeySet(tenantId: string) {
      source.reads++;
      return sets.get(tenantId);
    },
  };
  return source;
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/**
 * Signs arbitrary header and payload segments with ES256 (canonical low-s, as our signer does), so
 * rules other than the signature can be tested.
 */
export function forge(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${signEs256(input, key).toString('base64url')}`;
}

/** The `s` half of a base64url `r ‖ s` signature as an integer. */
export function sOf(encodedSignature: string): bigint {
  return BigInt(`0x${Buffer.from(encodedSignature, 'base64url').subarray(32).toString('hex')}`);
}

/** The same signature with s replaced by n − s: as valid for ECDSA, but not the canonical form. */
export function highSTwinOf(encodedSignature: string): string {
  const signature = Buffer.from(encodedSignature, 'base64url');
  const twin = P256_ORDER - sOf(encodedSignature);
  signature.write(twin.toString(16).padStart(64, '0'), 32, 'hex');
  return signature.toString('base64url');
}

/** A tenant with a current key, a viewer, and helpers to sign, forge and verify at `NOW`. */
export async function tokenFixture() {
  const tenantId = uniqueTenantId();
  const key = await makeKey(tenantId);
  const sets = new Map([[tenantId, keySetOf(tenantId, [[key, 'current']])]]);
  const source = countingSource(sets);
  const keys = createPublicKeyDirectory({ source, now: () => NOW });
  const viewer: TokenPresenter = { sub: randomUUID(), tenantId };

  const header = (overrides: Record<string, unknown> = {}) => ({
    alg: 'ES256',
    typ: 'embed+jwt',
    kid: key.kid,
    ...overrides,
  });
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: viewer.sub,
    tid: tenantId,
    eid: 'emb_sales',
    rsc: { type: 'dashboard', id: 'dash_sales' },
    prm: { region: 'EU' },
    jti: randomBytes(16).toString('base64url'),
    iat: NOW_S - 10,
    nbf: NOW_S - 10,
    exp: NOW_S + 290,
    ...overrides,
  });

  return {
    tenantId,
    key,
    sets,
    source,
    keys,
    viewer,
    header,
    claims,
    /** A real token from `signEmbedToken`. */
    sign: async (overrides: Partial<SignEmbedTokenInput> = {}) =>
      signEmbedToken({
        signingKey: key.signingKey,
        issuer: ISSUER,
        audience: AUDIENCE,
        viewer,
        embedId: 'emb_sales',
        resource: { type: 'dashboard', id: 'dash_sales' },
        lockedParams: { region: 'EU' },
        now: NOW,
        ...overrides,
      }),
    forge: (headerOverrides: Record<string, unknown> = {}, claimOverrides: Record<string, unknown> = {}) =>
      forge(header(headerOverrides), claims(claimOverrides), key.privateKeyObject),
    verify: (token: unknown, caller: TokenPresenter = viewer, now = NOW) =>
      verifyEmbedToken(token, caller, { keys, issuer: ISSUER, audience: AUDIENCE, now: () => now }),
  };
}
