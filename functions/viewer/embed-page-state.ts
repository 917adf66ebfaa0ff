import type { Embed } from '#control/embeds';
import { TENANT_ID_PATTERN } from '#shared/identity';
import { EMBED_ID_PATTERN, type ViewerEmbedState } from './render-viewer-page.ts';

/**
 * What the viewer page needs to know about an embed before any credential exists: whether it
 * exists, whether it is enabled, and which origins may frame it. Looked up by the public viewer
 * function, so the lookups are cached briefly per container: a reload storm (or a flood of made-up
 * ids) costs one read per id per TTL, not one per request.
 */

export interface EmbedPageState {
  readonly state: ViewerEmbedState;
  readonly allowedOrigins: readonly string[];
}

export interface EmbedPageStateDeps {
  /** `EmbedRepository.get`: the embed or `undefined`. */
  readonly getEmbed: (tenantId: string, embedId: string) => Promise<Embed | undefined>;
  /** How long an answer (found or not) is reused. */
  readonly ttlMs?: number;
  /** Upper bound of cached ids, so made-up ids cannot grow the container's memory. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export const EMBED_PAGE_STATE_TTL_MS = 30_000;
const MAX_ENTRIES = 5_000;

const NOT_FOUND: EmbedPageState = Object.freeze({ state: 'not-found', allowedOrigins: Object.freeze([]) });

/** True when both path ids have the shape the control table can hold; anything else is "not found". */
export function isEmbedPagePath(tenantId: unknown, embedId: unknown): boolean {
  return (
    typeof tenantId === 'string' &&
    typeof embedId === 'string' &&
    TENANT_ID_PATTERN.test(tenantId) &&
    EMBED_ID_PATTERN.test(embedId)
  );
}

/** Creates the cached lookup `(tenantId, embedId) → EmbedPageState`; concurrent misses share one read. */
export function createEmbedPageStateLookup(deps: EmbedPageStateDeps) {
  const ttlMs = deps.ttlMs ?? EMBED_PAGE_STATE_TTL_MS;
  const maxEntries = deps.maxEntries ?? MAX_ENTRIES;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { value: Promise<EmbedPageState>; expiresAt: number }>();

  return async function embedPageState(tenantId: string, embedId: string): Promise<EmbedPageState> {
    if (!isEmbedPagePath(tenantId, embedId)) return NOT_FOUND;
    const key = `${tenantId}/${embedId}`;
    const at = now();
    const cached = cache.get(key);
    if (cached && at < cached.expiresAt) return cached.value;

    const value = deps
      .getEmbed(tenantId, embedId)
      .then(
        (embed): EmbedPageState =>
          embed
            ? { state: embed.enabled ? 'active' : 'disabled', allowedOrigins: [...embed.allowedOrigins] }
            : NOT_FOUND,
      );
    cache.delete(key);
    // Oldest first (Map keeps insertion order): evict before growing past the bound.
    while (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, { value, expiresAt: at + ttlMs });
    // A failed read is never cached: the next request tries again.
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  };
}
