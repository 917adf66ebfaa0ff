import type { EmbedTokenAlg } from '#token/format';
import type { KeyStatus } from '#token/key-types';

// The key types the token core needs live in the token module (the lower layer); re-exported here
// so every importer of `#keys/types` keeps working.
export type { KeyStatus, SigningKey, VerificationKey, VerificationKeyResolver } from '#token/key-types';

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

/** Reads a tenant's published key set (the validator's only key source). */
export interface KeySetSource {
  getKeySet(tenantId: string): Promise<PublishedKeySet | undefined>;
}

/** Clock in epoch milliseconds; injected so tests freeze time. */
export type Clock = () => number;
