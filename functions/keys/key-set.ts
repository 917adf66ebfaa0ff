import { Conflict } from '#errors';
import type { TableGateway } from '#control/table-gateway';
import { isTenantId } from '#shared/identity';
import { EMBED_TOKEN_ALG, parseKid } from '#token/format';
import { parsePublicJwk } from './key-material.ts';
import type { KeySetSource, KeyStatus, PublicJwk, PublishedKey, PublishedKeySet } from './types.ts';

/**
 * A tenant's published public keys: the control-table item `TENANT#<t>` / `SIGNING_KEYS`.
 * Rotation writes it (conditionally, on `revision`); validators only read it.
 */

export const SIGNING_KEYS_SORT_KEY = 'SIGNING_KEYS';

/** Retired kids kept so that a token signed with one is refused as retired rather than unknown. */
export const RETIRED_KEYS_KEPT = 5;

const STATUSES: ReadonlySet<string> = new Set<KeyStatus>(['pending', 'current', 'previous', 'retired']);

/** Reads and conditionally writes key sets. */
export interface KeySetRepository extends KeySetSource {
  getKeySet(tenantId: string, options?: { consistent?: boolean }): Promise<PublishedKeySet | undefined>;
  /** Writes `set` if the stored revision is still `expectedRevision` (`undefined`: no item yet); else `Conflict`. */
  putKeySet(set: PublishedKeySet, expectedRevision: number | undefined): Promise<void>;
}

/** The DynamoDB-backed key set repository. */
export function createKeySetRepository(deps: { table: TableGateway }): KeySetRepository {
  const { table } = deps;
  return {
    async getKeySet(tenantId, options) {
      if (!isTenantId(tenantId)) return undefined;
      const item = await table.get({
        Key: { pk: tenantPartitionKey(tenantId), sk: SIGNING_KEYS_SORT_KEY },
        ConsistentRead: options?.consistent ?? false,
      });
      return item ? parseKeySetItem(tenantId, item) : undefined;
    },

    async putKeySet(set, expectedRevision) {
      if (set.revision !== (expectedRevision ?? 0) + 1) throw new RangeError('Key set revision must advance by one');
      await table.put(
        {
          Item: {
            pk: tenantPartitionKey(set.tenantId),
            sk: SIGNING_KEYS_SORT_KEY,
            keys: set.keys.map((key) => ({ ...key, jwk: { ...key.jwk } })),
            revision: set.revision,
            updatedAt: set.updatedAt,
          },
          ...(expectedRevision === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#revision = :expected',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':expected': expectedRevision },
              }),
        },
        () => new Conflict('The signing key set was changed concurrently; retry.'),
      );
    },
  };
}

function tenantPartitionKey(tenantId: string): string {
  return `TENANT#${tenantId}`;
}

/** Parses a stored item; entries that are malformed (or carry private members) are dropped, never trusted. */
export function parseKeySetItem(tenantId: string, item: Record<string, unknown>): PublishedKeySet {
  const keys: PublishedKey[] = [];
  for (const raw of Array.isArray(item.keys) ? item.keys : []) {
    if (typeof raw !== 'object' || raw === null) continue;
    const { kid, alg, jwk, status, createdAt, activatedAt } = raw as Record<string, unknown>;
    const keyId = parseKid(kid);
    const publicJwk = parsePublicJwk(jwk);
    if (!keyId || keyId.tenantId !== tenantId || alg !== EMBED_TOKEN_ALG || !publicJwk) continue;
    if (typeof status !== 'string' || !STATUSES.has(status) || typeof createdAt !== 'string') continue;
    keys.push({
      kid: keyId.kid,
      alg,
      jwk: publicJwk,
      status: status as KeyStatus,
      createdAt,
      ...(typeof activatedAt === 'string' ? { activatedAt } : {}),
    });
  }
  const revision = typeof item.revision === 'number' ? item.revision : 0;
  const updatedAt = typeof item.updatedAt === 'string' ? item.updatedAt : '';
  return { tenantId, keys, revision, updatedAt };
}

/** A new key to publish. */
export interface NewPublicKey {
  readonly kid: string;
  readonly jwk: PublicJwk;
  readonly createdAt: string;
}

/** The first key set of a tenant (onboarding): one current key. */
export function initialKeySet(tenantId: string, key: NewPublicKey, at: string): PublishedKeySet {
  return { tenantId, keys: [{ ...publishedKey(key), status: 'current', activatedAt: at }], revision: 1, updatedAt: at };
}

/**
 * Adds a key as `pending` (idempotent: a kid already present leaves the set unchanged). A stale
 * pending key of an abandoned rotation is retired: nothing ever signed a real token with it.
 */
export function withPendingKey(
  set: PublishedKeySet,
  key: NewPublicKey,
  at: string,
): { set: PublishedKeySet; changed: boolean } {
  if (set.keys.some((k) => k.kid === key.kid)) return { set, changed: false };
  const keys = set.keys.map((k): PublishedKey => (k.status === 'pending' ? { ...k, status: 'retired' } : k));
  keys.push({ ...publishedKey(key), status: 'pending' });
  return { set: nextRevision(set, trimRetired(keys), at), changed: true };
}

/**
 * Promotes `kid` to current: the old current becomes previous, the old previous retired.
 * Idempotent: promoting the current key changes nothing.
 */
export function withPromotedKey(
  set: PublishedKeySet,
  kid: string,
  at: string,
): { set: PublishedKeySet; changed: boolean } {
  const target = set.keys.find((k) => k.kid === kid);
  if (!target || target.status === 'retired') throw new Error('Key to promote is not published as pending');
  if (target.status === 'current') return { set, changed: false };
  const keys = set.keys.map((k): PublishedKey => {
    if (k.kid === kid) return { ...k, status: 'current', activatedAt: at };
    if (k.status === 'current') return { ...k, status: 'previous' };
    if (k.status === 'previous' || k.status === 'pending') return { ...k, status: 'retired' };
    return k;
  });
  return { set: nextRevision(set, trimRetired(keys), at), changed: true };
}

/** The highest key generation in the set (0 when empty). */
export function highestGeneration(set: PublishedKeySet | undefined): number {
  let highest = 0;
  for (const key of set?.keys ?? []) highest = Math.max(highest, parseKid(key.kid)?.generation ?? 0);
  return highest;
}

function publishedKey(key: NewPublicKey): Omit<PublishedKey, 'status'> {
  return { kid: key.kid, alg: EMBED_TOKEN_ALG, jwk: { ...key.jwk }, createdAt: key.createdAt };
}

function nextRevision(set: PublishedKeySet, keys: PublishedKey[], at: string): PublishedKeySet {
  return { tenantId: set.tenantId, keys, revision: set.revision + 1, updatedAt: at };
}

/** Keeps the newest `RETIRED_KEYS_KEPT` retired entries (by generation) so the item stays small. */
function trimRetired(keys: PublishedKey[]): PublishedKey[] {
  const retired = keys
    .filter((k) => k.status === 'retired')
    .sort((a, b) => (parseKid(b.kid)?.generation ?? 0) - (parseKid(a.kid)?.generation ?? 0));
  const dropped = new Set(retired.slice(RETIRED_KEYS_KEPT).map((k) => k.kid));
  return keys.filter((k) => !dropped.has(k.kid));
}
