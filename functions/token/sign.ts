import { randomBytes } from 'node:crypto';
import { EmbedTokenLifetimeTooLong, InternalError, ValidationFailed } from '#errors';
import { isTenantId } from '#shared/identity';
import { signEs256 } from './es256.ts';
import {
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  EMBED_TOKEN_ALG,
  EMBED_TOKEN_TYP,
  type EmbedResource,
  type EmbedTokenClaims,
  ID_PATTERN,
  isEmbedResource,
  isPlainObject,
  isValidSubject,
  JTI_BYTES,
  MAX_TOKEN_LIFETIME_SECONDS,
  parseKid,
} from './format.ts';
import type { SigningKey } from './key-types.ts';

/** Everything the signer needs; `lockedParams` comes from `prepareTokenParameters`. */
export interface SignEmbedTokenInput {
  readonly signingKey: SigningKey;
  readonly issuer: string;
  readonly audience: string;
  /** The viewer the token is issued to (verified Cognito `sub` and tenant). */
  readonly viewer: { readonly sub: string; readonly tenantId: string };
  readonly embedId: string;
  readonly resource: EmbedResource;
  readonly lockedParams?: Readonly<Record<string, unknown>>;
  /** Requested lifetime; defaults to 300 s (or the embed's maximum when that is lower). */
  readonly lifetimeSeconds?: number;
  /** The embed's own maximum lifetime, at most the 600 s hard cap. */
  readonly maxLifetimeSeconds?: number;
  /** Epoch milliseconds. */
  readonly now: number;
}

/** A signed token, its id (for audit and redemption) and its expiry (epoch seconds). */
export interface SignedEmbedToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresAt: number;
}

/**
 * Signs an embed token for one viewer. A lifetime above the embed's maximum or the hard cap is
 * refused (`EMBED_TOKEN_LIFETIME_TOO_LONG`), never shortened silently. Signing uses `node:crypto`
 * directly: a token is one header, one payload and one low-s ES256 signature, not worth jose's
 * bundle in every signing Lambda. Kept async so that every refusal is a rejection for callers.
 */
export async function signEmbedToken(input: SignEmbedTokenInput): Promise<SignedEmbedToken> {
  const { signingKey, viewer } = input;
  const lifetime = effectiveLifetime(input.lifetimeSeconds, input.maxLifetimeSeconds);

  if (!isValidSubject(viewer.sub)) throw new ValidationFailed('viewer.sub', 'must be a non-empty string');
  if (!isTenantId(viewer.tenantId)) throw new ValidationFailed('viewer.tenantId', 'must be a tenant id');
  if (typeof input.embedId !== 'string' || !ID_PATTERN.test(input.embedId)) {
    throw new ValidationFailed('embedId', 'must be an id');
  }
  if (!isEmbedResource(input.resource)) throw new ValidationFailed('resource', 'must be { type, id }');
  const prm = input.lockedParams ?? {};
  if (!isPlainObject(prm)) throw new ValidationFailed('params', 'must be an object');

  // A key of another tenant would produce a token its own verifier refuses; fail loudly here.
  const keyId = parseKid(signingKey.kid);
  if (!keyId || keyId.tenantId !== viewer.tenantId || signingKey.tenantId !== viewer.tenantId) {
    throw new InternalError({ cause: new Error('Signing key does not belong to the viewer tenant') });
  }

  const iat = Math.floor(input.now / 1000);
  const exp = iat + lifetime;
  const jti = randomBytes(JTI_BYTES).toString('base64url');
  const claims: EmbedTokenClaims = {
    iss: input.issuer,
    aud: input.audience,
    sub: viewer.sub,
    tid: viewer.tenantId,
    eid: input.embedId,
    rsc: { type: input.resource.type, id: input.resource.id },
    prm,
    jti,
    iat,
    nbf: iat,
    exp,
  };
  const header = { alg: EMBED_TOKEN_ALG, typ: EMBED_TOKEN_TYP, kid: signingKey.kid };
  const signingInput = `${encodeJsonSegment(header)}.${encodeJsonSegment(claims)}`;
  const token = `${signingInput}.${signEs256(signingInput, signingKey.privateKey).toString('base64url')}`;
  return { token, jti, expiresAt: exp };
}

/** base64url of the UTF-8 JSON text; `JSON.stringify` of an object never repeats a member name. */
function encodeJsonSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The lifetime to sign with, or the refusal: requested ≤ embed maximum ≤ hard cap. */
export function effectiveLifetime(requested: number | undefined, embedMaximum: number | undefined): number {
  const maximum = embedMaximum ?? MAX_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(maximum) || maximum < 1) {
    throw new ValidationFailed('maxLifetimeSeconds', 'must be a positive integer');
  }
  if (maximum > MAX_TOKEN_LIFETIME_SECONDS) throw new EmbedTokenLifetimeTooLong(MAX_TOKEN_LIFETIME_SECONDS);
  if (requested === undefined) return Math.min(DEFAULT_TOKEN_LIFETIME_SECONDS, maximum);
  if (!Number.isInteger(requested) || requested < 1) {
    throw new ValidationFailed('lifetimeSeconds', 'must be a positive integer');
  }
  if (requested > maximum) throw new EmbedTokenLifetimeTooLong(maximum);
  return requested;
}
