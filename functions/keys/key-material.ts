import { createECDH, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { PrivateJwk, PublicJwk } from './types.ts';

/**
 * Key material for ES256: generation, strict JWK shapes, and imports. A JWK is checked member by
 * member before use, so a malformed or swapped key (an RSA or symmetric key, a JWK with extra
 * members) is refused instead of silently changing what verification means.
 */

const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

/** OpenSSL's name of P-256, as node reports it in `asymmetricKeyDetails`. */
const P256 = 'prime256v1';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A freshly generated P-256 key pair as JWKs. */
export async function generateSigningKeyPair(): Promise<{ privateJwk: PrivateJwk; publicJwk: PublicJwk }> {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const privateJwk = parsePrivateJwk(privateKey.export({ format: 'jwk' }));
  if (!privateJwk) throw new Error('Generated key has an unexpected shape');
  return { privateJwk, publicJwk: toPublicJwk(privateJwk) };
}

/** The public half of a JWK: only `kty`, `crv`, `x`, `y`. */
export function toPublicJwk(jwk: PublicJwk): PublicJwk {
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/** A P-256 public JWK, or `undefined` for anything else (including a JWK that carries `d`). */
export function parsePublicJwk(value: unknown): PublicJwk | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const jwk = value as Record<string, unknown>;
  if ('d' in jwk) return undefined;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') return undefined;
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return undefined;
  if (!COORDINATE.test(jwk.x) || !COORDINATE.test(jwk.y)) return undefined;
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/** A P-256 private JWK, or `undefined`. */
export function parsePrivateJwk(value: unknown): PrivateJwk | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const jwk = value as Record<string, unknown>;
  const { d, ...rest } = jwk;
  const publicPart = parsePublicJwk(rest);
  if (!publicPart || typeof d !== 'string' || !COORDINATE.test(d)) return undefined;
  return { ...publicPart, d };
}

/** Imports a public JWK as a node KeyObject (synchronous verification path), checking the curve. */
export function importVerificationKey(jwk: PublicJwk): KeyObject {
  const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== P256) {
    throw new Error('Verification key is not a P-256 key');
  }
  return key;
}

/**
 * Imports a private JWK as a node KeyObject for signing; nothing ever exports it again. Node takes
 * `x`/`y` from the JWK as they are, so `d` is checked to be their private key: a swapped `d` would
 * sign tokens that the published public key can never verify.
 */
export function importSigningKey(jwk: PrivateJwk): KeyObject {
  const key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== P256) {
    throw new Error('Signing key is not a P-256 key');
  }
  const ecdh = createECDH(P256);
  ecdh.setPrivateKey(Buffer.from(jwk.d, 'base64url'));
  const point = ecdh.getPublicKey(); // 0x04 ‖ x ‖ y
  if (point.toString('base64url', 1, 33) !== jwk.x || point.toString('base64url', 33, 65) !== jwk.y) {
    throw new Error('Signing key does not match its public key');
  }
  return key;
}
