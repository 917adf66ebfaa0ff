/**
 * Public API of the embed-token core: what the API handlers call.
 */
export {
  CLOCK_TOLERANCE_SECONDS,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  EMBED_TOKEN_ALG,
  EMBED_TOKEN_TYP,
  type EmbedResource,
  type EmbedTokenClaims,
  MAX_EMBED_TOKEN_BYTES,
  MAX_TOKEN_LIFETIME_SECONDS,
  formatKid,
  parseKid,
} from './format.ts';
export type { KeyStatus, SigningKey, VerificationKey, VerificationKeyResolver } from './key-types.ts';
export {
  type ParameterPolicy,
  prepareTokenParameters,
  resolveParameters,
  type ResolveParametersInput,
} from './params.ts';
export { effectiveLifetime, type SignedEmbedToken, type SignEmbedTokenInput, signEmbedToken } from './sign.ts';
export {
  createEmbedTokenVerifier,
  type EmbedTokenVerifierOptions,
  type TokenPresenter,
  type VerifiedEmbedToken,
  verifyEmbedToken,
} from './verify.ts';
