import type { KeyObject } from 'node:crypto';
import type { EmbedTokenAlg } from './format.ts';

/**
 * The keys the token core signs and verifies with. They live here, below `keys/`, because the
 * signer and the verifier need them and a type never justifies an upward import; `keys/types.ts`
 * re-exports them for everything above.
 */

/** Lifecycle of a published public key. `pending` and later `current`/`previous` verify; `retired` is refused. */
export type KeyStatus = 'pending' | 'current' | 'previous' | 'retired';

/** What the signer holds: the tenant's current private key, imported once. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: EmbedTokenAlg;
  readonly tenantId: string;
  readonly privateKey: KeyObject;
}

/** What a validator holds: one published public key, imported once as a KeyObject. */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: EmbedTokenAlg;
  readonly status: Exclude<KeyStatus, 'retired'>;
  readonly key: KeyObject;
}

/**
 * Finds the verification key for a kid among the named tenant's published keys. Throws
 * `EmbedTokenKeyUnknown` or `EmbedTokenKeyRetired`; never builds a lookup from anything but the
 * already validated tenant id.
 */
export interface VerificationKeyResolver {
  resolve(tenantId: string, kid: string): Promise<VerificationKey>;
}
