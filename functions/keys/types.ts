import type { KeyObject } from 'node:crypto';
import type { EmbedTokenAlg } from '#token/format';

/** Lifecycle of a published public key. `pending` and later `current`/`previous` verify; `retired` is refused. */
export type KeyStatus = 'pending' | 'current' | 'previous' | 'retired';

/** A public EC P-256 JWK: only the public members, never `d`. */
export interface PublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

/** A private EC P-256 JWK as stored in Secrets Manager. */
export interface PrivateJwk extends PublicJwk {
  readonly d: string;
}

/** One entry of a tenant's published key set. */
export interface PublishedKey {
  readonly kid: string;
  readonly alg: EmbedTokenAlg;
  readonly jwk: PublicJwk;
  readonly status: KeyStatus;
  readonly createdAt: string;
  /** When the key became current (rotation uses it to refuse rotating again too soon). */
  readonly activatedAt?: string;
}

/** A tenant's published public keys; `revision` guards concurrent writers. */
export interface PublishedKeySet {
  readonly tenantId: string;
  readonly keys: readonly PublishedKey[];
  readonly revision: number;
  readonly updatedAt: string;
}

/** What the signer holds: the tenant's current private key, imported once. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: EmbedTokenAlg;
  readonly tenantId: string;
  readonly privateKey: CryptoKey;
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

/** Reads a tenant's published key set (the validator's only key source). */
export interface KeySetSource {
  getKeySet(tenantId: string): Promise<PublishedKeySet | undefined>;
}

/** Clock in epoch milliseconds; injected so tests freeze time. */
export type Clock = () => number;
