import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DependencyUnavailable, InternalError, TenantNotOnboarded } from '#errors';
import { isTenantId } from '#shared/identity';
import { importSigningKey } from './key-material.ts';
import { DEFAULT_KEY_CACHE_TTL_MS, DEFAULT_KEY_REFRESH_INTERVAL_MS } from './public-key-directory.ts';
import { parseSigningKeySecret, signingKeySecretName } from './secret-value.ts';
import type { Clock, SigningKey } from './types.ts';

/**
 * The signer's private keys: each tenant's AWSCURRENT secret version, read at most once per TTL
 * (default 5 min) per container and imported once per kid. After a rotation the signer moves to
 * the new key within one TTL; tokens signed meanwhile with the old key stay valid because the old
 * key is published as `previous`.
 *
 * Not Powertools' `SecretsProvider`: what we cache is the imported private `KeyObject`
 * (the provider would cache the JSON string, and the key would still need its own cache), we
 * need single-flight reads and typed errors (`TENANT_NOT_ONBOARDED` vs `DEPENDENCY_UNAVAILABLE`),
 * and the package is not a dependency of this project.
 */

export interface SigningKeyStoreOptions {
  readonly secrets: SecretsManagerClient;
  /** Secret name prefix; the secret is `<prefix><tenantId>`. */
  readonly prefix: string;
  readonly now?: Clock;
  readonly ttlMs?: number;
  /** How long "this tenant has no secret" is remembered. */
  readonly notFoundTtlMs?: number;
}

/** The signer-side key store. */
export interface SigningKeyStore {
  /** The tenant's current signing key; `TENANT_NOT_ONBOARDED` when it has none. */
  getSigningKey(tenantId: string): Promise<SigningKey>;
}

type CacheEntry = { readonly key: SigningKey; readonly expiresAt: number } | { readonly missingUntil: number };

/** Creates the Secrets Manager backed signing key store. */
export function createSigningKeyStore(options: SigningKeyStoreOptions): SigningKeyStore {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
  const notFoundTtlMs = options.notFoundTtlMs ?? DEFAULT_KEY_REFRESH_INTERVAL_MS;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<SigningKey>>();

  async function load(tenantId: string): Promise<SigningKey> {
    const startedAt = now();
    let secretString: string | undefined;
    try {
      const result = await options.secrets.send(
        new GetSecretValueCommand({
          SecretId: signingKeySecretName(options.prefix, tenantId),
          VersionStage: 'AWSCURRENT',
        }),
      );
      secretString = result.SecretString;
    } catch (cause) {
      if (cause instanceof ResourceNotFoundException) {
        cache.set(tenantId, { missingUntil: startedAt + notFoundTtlMs });
        throw new TenantNotOnboarded();
      }
      throw new DependencyUnavailable({ cause });
    }
    let secret: ReturnType<typeof parseSigningKeySecret>;
    try {
      secret = parseSigningKeySecret(secretString, tenantId);
    } catch (cause) {
      throw new InternalError({ cause });
    }
    const previous = cache.get(tenantId);
    const key =
      previous && 'key' in previous && previous.key.kid === secret.kid
        ? previous.key
        : {
            kid: secret.kid,
            alg: secret.alg,
            tenantId,
            privateKey: importSigningKey(secret.privateJwk),
          };
    cache.set(tenantId, { key, expiresAt: startedAt + ttlMs });
    return key;
  }

  return {
    getSigningKey(tenantId) {
      if (!isTenantId(tenantId)) return Promise.reject(new TenantNotOnboarded());
      const entry = cache.get(tenantId);
      if (entry) {
        if ('key' in entry && now() < entry.expiresAt) return Promise.resolve(entry.key);
        if ('missingUntil' in entry && now() < entry.missingUntil) return Promise.reject(new TenantNotOnboarded());
      }
      const pending = inFlight.get(tenantId);
      if (pending) return pending;
      const read = load(tenantId).finally(() => inFlight.delete(tenantId));
      inFlight.set(tenantId, read);
      return read;
    },
  };
}
