import type { QueryResult } from './executor.ts';

/**
 * A query-result cache. Keys are `QueryPlan.cacheKey` values only — a hash over tenant, dataset
 * version, effective RLS context, parameters and query — so an entry can never be served to a
 * viewer with a different RLS context, and a new import (new version) never serves stale rows.
 */
export interface QueryResultCache {
  get(key: string): QueryResult | undefined;
  set(key: string, value: QueryResult): void;
}

/** A small per-container LRU with a time-to-live. */
export class MemoryQueryCache implements QueryResultCache {
  private readonly entries = new Map<string, { value: QueryResult; expiresAt: number }>();

  constructor(
    private readonly maxEntries = 500,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached result, refreshed as most recently used; undefined when absent or expired. */
  get(key: string): QueryResult | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores a result, evicting the least recently used entry when full. */
  set(key: string, value: QueryResult): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Number of live entries (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }
}
