import { isTenantId } from '#shared/identity';
import { EMBED_TOKEN_ALG, type EmbedTokenAlg, parseKid } from '#token/format';
import { parsePrivateJwk } from './key-material.ts';
import type { PrivateJwk } from './types.ts';

/** Default prefix of the per-tenant secret names. */
export const DEFAULT_SIGNING_KEY_SECRET_PREFIX = 'embed/signing-keys/';

/** Secrets Manager secret names: letters, digits and `/_+=.@-`, at most 512 characters. */
const SECRET_PREFIX_PATTERN = /^[A-Za-z0-9/_+=.@-]{0,256}$/;

/** The SecretString of a tenant's signing-key secret (one version = one key). */
export interface SigningKeySecret {
  readonly kid: string;
  readonly alg: EmbedTokenAlg;
  readonly privateJwk: PrivateJwk;
  readonly createdAt: string;
}

/** `<prefix><tenantId>`; both parts are validated so a name can never be built from arbitrary input. */
export function signingKeySecretName(prefix: string, tenantId: string): string {
  if (!SECRET_PREFIX_PATTERN.test(prefix)) throw new RangeError('Invalid signing key secret prefix');
  if (!isTenantId(tenantId)) throw new RangeError('Invalid tenant id');
  return `${prefix}${tenantId}`;
}

/** The tenant a secret name belongs to, or `undefined` when the name is not `<prefix><tenantId>`. */
export function tenantIdFromSecretName(prefix: string, name: string): string | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const tenantId = name.slice(prefix.length);
  return isTenantId(tenantId) ? tenantId : undefined;
}

/** Serialises a signing-key secret. */
export function serializeSigningKeySecret(secret: SigningKeySecret): string {
  return JSON.stringify({
    kid: secret.kid,
    alg: secret.alg,
    privateJwk: secret.privateJwk,
    createdAt: secret.createdAt,
  });
}

/**
 * Parses a SecretString strictly. Throws a plain error that never quotes the content (it holds
 * a private key); callers wrap it as the cause of an `InternalError`.
 */
export function parseSigningKeySecret(secretString: unknown, expectedTenantId?: string): SigningKeySecret {
  let value: unknown;
  try {
    value = typeof secretString === 'string' ? JSON.parse(secretString) : undefined;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null) throw new Error('Signing key secret is not a JSON object');
  const { kid, alg, privateJwk, createdAt } = value as Record<string, unknown>;
  const keyId = parseKid(kid);
  if (!keyId) throw new Error('Signing key secret has an invalid kid');
  if (expectedTenantId !== undefined && keyId.tenantId !== expectedTenantId) {
    throw new Error('Signing key secret belongs to another tenant');
  }
  if (alg !== EMBED_TOKEN_ALG) throw new Error('Signing key secret has an unsupported alg');
  const jwk = parsePrivateJwk(privateJwk);
  if (!jwk) throw new Error('Signing key secret has an invalid private JWK');
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
    throw new Error('Signing key secret has an invalid createdAt');
  }
  return { kid: keyId.kid, alg, privateJwk: jwk, createdAt };
}
