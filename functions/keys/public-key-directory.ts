import { DependencyUnavailable, EmbedTokenKeyRetired, EmbedTokenKeyUnknown } from '#errors';
import { isTenantId } from '#shared/identity';
import { importVerificationKey } from './key-material.ts';
import type { Clock, KeySetSource, PublishedKey, VerificationKey, VerificationKeyResolver } from './types.ts';

/**
 * The validators' key cache. Per container and per tenant it holds the published key set for a
 * TTL (default 5 min) and each key imported once. Three guards keep a flood of forged kids from
 * becoming a flood of reads: an unknown kid refreshes its tenant's set at most once per
 * `refreshIntervalMs` (default 10 s); a tenant without a key set is cached as empty (negative
 * caching); and concurrent misses for one tenant share a single in-flight read.
 */

export interface PublicKeyDirectoryOptions {
  readonly source: KeySetSource;
  readonly now?: Clock;
  readonly ttlMs?: number;
  readonly refreshIntervalMs?: number;
  /** Tenants kept in memory; the oldest entry is evicted beyond this. */
  readonly maxTenants?: number;
}

export const DEFAULT_KEY_CACHE_TTL_MS = 5 * 60 * 1000;
export const DEFAULT_KEY_REFRESH_INTERVAL_MS = 10 * 1000;
const DEFAULT_MAX_TENANTS = 10_000;

interface TenantKeys {
  /** Published entries by kid; empty for a tenant without a key set. */
  readonly published: ReadonlyMap<string, PublishedKey>;
  readonly expiresAt: number;
  /** When the set was last read (successfully or not): the refresh throttle's reference. */
  readonly fetchedAt: number;
  /** Set when the last read failed and there was nothing to fall back on. */
  readonly failure?: unknown;
}

/** The validator-side resolver: `resolve(tenantId, kid)` → the imported public key. */
export function createPublicKeyDirectory(options: PublicKeyDirectoryOptions): VerificationKeyResolver {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_KEY_REFRESH_INTERVAL_MS;
  const maxTenants = options.maxTenants ?? DEFAULT_MAX_TENANTS;
  const tenants = new Map<string, TenantKeys>();
  const inFlight = new Map<string, Promise<TenantKeys>>();
  // Imported keys outlive refreshes: a kid names one immutable key, so it is imported once.
  const imported = new Map<string, { readonly x: string; readonly y: string; readonly key: VerificationKey['key'] }>();

  function refresh(tenantId: string): Promise<TenantKeys> {
    const pending = inFlight.get(tenantId);
    if (pending) return pending;
    const read = load(tenantId).finally(() => inFlight.delete(tenantId));
    inFlight.set(tenantId, read);
    return read;
  }

  async function load(tenantId: string): Promise<TenantKeys> {
    const previous = tenants.get(tenantId);
    const startedAt = now();
    let entry: TenantKeys;
    try {
      const set = await options.source.getKeySet(tenantId);
      const published = new Map<string, PublishedKey>();
      for (const key of set?.keys ?? []) published.set(key.kid, key);
      entry = { published, expiresAt: startedAt + ttlMs, fetchedAt: startedAt };
    } catch (failure) {
      // Serve the stale set rather than fail every verification while the table is unavailable.
      entry = previous
        ? { published: previous.published, expiresAt: startedAt + refreshIntervalMs, fetchedAt: startedAt }
        : { published: new Map(), expiresAt: startedAt + refreshIntervalMs, fetchedAt: startedAt, failure };
    }
    tenants.delete(tenantId);
    tenants.set(tenantId, entry);
    if (tenants.size > maxTenants) {
      const oldest = tenants.keys().next().value;
      if (oldest !== undefined) tenants.delete(oldest);
    }
    return entry;
  }

  function toVerificationKey(key: PublishedKey): VerificationKey {
    if (key.status === 'retired') throw new EmbedTokenKeyRetired();
    let cached = imported.get(key.kid);
    if (!cached || cached.x !== key.jwk.x || cached.y !== key.jwk.y) {
      try {
        cached = { x: key.jwk.x, y: key.jwk.y, key: importVerificationKey(key.jwk) };
      } catch {
        // A published key that does not import is as good as absent.
        throw new EmbedTokenKeyUnknown();
      }
      imported.set(key.kid, cached);
    }
    return { kid: key.kid, alg: key.alg, status: key.status, key: cached.key };
  }

  return {
    async resolve(tenantId, kid) {
      if (!isTenantId(tenantId)) throw new EmbedTokenKeyUnknown();
      let entry = tenants.get(tenantId);
      if (!entry || now() >= entry.expiresAt) entry = await refresh(tenantId);
      let key = entry.published.get(kid);
      if (!key && now() - entry.fetchedAt >= refreshIntervalMs) {
        entry = await refresh(tenantId);
        key = entry.published.get(kid);
      }
      if (entry.failure !== undefined && !key) throw new DependencyUnavailable({ cause: entry.failure });
      if (!key) throw new EmbedTokenKeyUnknown();
      return toVerificationKey(key);
    },
  };
}
