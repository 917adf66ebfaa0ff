import { verify as verifySignature } from 'node:crypto';
import {
  EmbedTokenAlgorithmNotAllowed,
  EmbedTokenClaimInvalid,
  EmbedTokenExpired,
  EmbedTokenHeaderInvalid,
  EmbedTokenIdentityMismatch,
  EmbedTokenKeyUnknown,
  EmbedTokenMalformed,
  EmbedTokenSignatureInvalid,
  EmbedTokenTooLarge,
} from '#errors';
import { isTenantId } from '#shared/identity';
import { isLowS } from './es256.ts';
import { hasDuplicateMemberNames } from './json-members.ts';
import type { KeyStatus, VerificationKeyResolver } from './key-types.ts';
import {
  ALLOWED_HEADER_MEMBERS,
  CLOCK_TOLERANCE_SECONDS,
  EMBED_TOKEN_ALGORITHMS,
  EMBED_TOKEN_TYP,
  type EmbedResource,
  ID_PATTERN,
  isEmbedResource,
  isPlainObject,
  isValidSubject,
  JTI_PATTERN,
  MAX_EMBED_TOKEN_BYTES,
  MAX_TOKEN_LIFETIME_SECONDS,
  parseKid,
} from './format.ts';

/**
 * The one verification function every consumer calls. Order matters: cheap structural checks
 * come before any decoding, the header is checked before any key is looked up, and the kid is
 * looked up only as `<tenant>.<n>` among that tenant's published keys.
 *
 * The signature is checked with `node:crypto` on a cached `KeyObject` rather than through jose:
 * jose 6 verifies through WebCrypto only, whose asynchronous round trip alone cost more than the
 * whole claim validation in our measurements (see bench/tokens.ts and the README). Claims are
 * validated here with the same rules jose applies (`typ`, `iss`, `aud`, `maxTokenAge`, clock
 * tolerance, required claims), made stricter: every claim's type is checked and `exp` has no
 * tolerance.
 */

/** The viewer presenting the token, from verified Cognito claims. */
export interface TokenPresenter {
  readonly sub: string;
  readonly tenantId: string;
}

/** What a verifier is configured with once per container. */
export interface EmbedTokenVerifierOptions {
  readonly keys: VerificationKeyResolver;
  readonly issuer: string;
  readonly audience: string;
  /** Epoch milliseconds; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** A verified, identity-bound embed token. */
export interface VerifiedEmbedToken {
  readonly kid: string;
  readonly keyStatus: Exclude<KeyStatus, 'retired'>;
  readonly jti: string;
  readonly sub: string;
  readonly tenantId: string;
  readonly embedId: string;
  readonly resource: EmbedResource;
  /** The token's `prm`: locked values and editable defaults, to be resolved by `resolveParameters`. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly issuedAt: number;
  readonly notBefore: number | undefined;
  readonly expiresAt: number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** An ES256 signature is 64 bytes: exactly 86 base64url characters, the last without spare bits. */
const ES256_SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/;

/**
 * Verifies an embed token and binds it to the caller. Every failure is an `EmbedTokenInvalid`
 * subclass (401), except a valid token presented by another viewer or tenant:
 * `EmbedTokenIdentityMismatch` (403).
 */
export async function verifyEmbedToken(
  token: unknown,
  caller: TokenPresenter,
  options: EmbedTokenVerifierOptions,
): Promise<VerifiedEmbedToken> {
  const { signingInput, header, encodedPayload, signature } = parseCompactJws(token);
  const keyId = parseKid(header.kid);
  if (!keyId) throw new EmbedTokenKeyUnknown();

  const key = await options.keys.resolve(keyId.tenantId, keyId.kid);
  if (key.alg !== header.alg) throw new EmbedTokenAlgorithmNotAllowed();
  let valid = false;
  try {
    valid = verifySignature(
      'sha256',
      Buffer.from(signingInput, 'latin1'),
      { key: key.key, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch (cause) {
    throw new EmbedTokenSignatureInvalid({ cause });
  }
  if (!valid) throw new EmbedTokenSignatureInvalid();

  const claims = decodeJsonSegment(encodedPayload, 'payload');
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  const verified = validateClaims(claims, options, nowSeconds);

  // The kid's tenant chose the key set; a token claiming another tenant is not that key's to sign.
  if (verified.tenantId !== keyId.tenantId) throw new EmbedTokenClaimInvalid('tid');

  // Identity binding: exact comparison with the authenticated caller, after everything else.
  if (!isValidSubject(caller.sub) || caller.sub !== verified.sub || caller.tenantId !== verified.tenantId) {
    throw new EmbedTokenIdentityMismatch();
  }
  return { ...verified, kid: keyId.kid, keyStatus: key.status };
}

/** Binds verifier options once (at cold start); the result verifies `(token, caller)`. */
export function createEmbedTokenVerifier(
  options: EmbedTokenVerifierOptions,
): (token: unknown, caller: TokenPresenter) => Promise<VerifiedEmbedToken> {
  if (!options.issuer || !options.audience) throw new TypeError('issuer and audience are required');
  return (token, caller) => verifyEmbedToken(token, caller, options);
}

interface ParsedCompactJws {
  readonly signingInput: string;
  readonly header: { readonly alg: string; readonly typ: string; readonly kid: unknown };
  readonly encodedPayload: string;
  readonly signature: Buffer;
}

/**
 * Headers that passed the header policy, by their encoded form. Every token signed with one key
 * carries the same header, so the common case skips decoding it; the map is bounded and cleared
 * when full, so forged headers cannot grow it.
 */
const acceptedHeaders = new Map<string, ParsedCompactJws['header']>();
const ACCEPTED_HEADERS_MAX = 1024;

/** Structural checks and header policy, all before any key lookup or signature work. */
function parseCompactJws(token: unknown): ParsedCompactJws {
  if (typeof token !== 'string') throw new EmbedTokenMalformed();
  // Length in UTF-16 units is a lower bound of the byte length; the charset check below makes them equal.
  if (token.length > MAX_EMBED_TOKEN_BYTES) throw new EmbedTokenTooLarge();
  const segments = token.split('.');
  if (segments.length !== 3) throw new EmbedTokenMalformed();
  const [encodedHeader, encodedPayload, encodedSignature] = segments as [string, string, string];
  if (!SEGMENT.test(encodedHeader) || !SEGMENT.test(encodedPayload)) throw new EmbedTokenMalformed();

  let header = acceptedHeaders.get(encodedHeader);
  if (!header) {
    header = checkHeader(encodedHeader);
    if (acceptedHeaders.size >= ACCEPTED_HEADERS_MAX) acceptedHeaders.clear();
    acceptedHeaders.set(encodedHeader, header);
  }

  // Only the canonical encoding of exactly 64 bytes: 86 characters whose last one carries no
  // spare bits (A, Q, g or w), so no two encodings of one signature exist.
  if (!ES256_SIGNATURE.test(encodedSignature)) throw new EmbedTokenSignatureInvalid();
  // (r, n − s) verifies whenever (r, s) does; only the low-s one is ever signed, so the other is refused.
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (!isLowS(signature)) throw new EmbedTokenSignatureInvalid();
  return {
    signingInput: token.slice(0, encodedHeader.length + 1 + encodedPayload.length),
    header,
    encodedPayload,
    signature,
  };
}

/** The header policy: exactly `alg` (allowlisted), `typ` (`embed+jwt`) and `kid`; nothing else. */
function checkHeader(encodedHeader: string): ParsedCompactJws['header'] {
  const header = decodeJsonSegment(encodedHeader, 'header');
  for (const member of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(member)) throw new EmbedTokenHeaderInvalid();
  }
  const { alg, typ, kid } = header;
  if (typeof alg !== 'string' || !EMBED_TOKEN_ALGORITHMS.includes(alg)) throw new EmbedTokenAlgorithmNotAllowed();
  if (typ !== EMBED_TOKEN_TYP) throw new EmbedTokenHeaderInvalid();
  return Object.freeze({ alg, typ, kid });
}

/** A header or payload segment: a JSON object in which no object, however deep, repeats a member name. */
function decodeJsonSegment(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isPlainObject(value)) throw new EmbedTokenMalformed(`The embed token ${part} is not a JSON object.`);
  // JSON.parse kept the last of any repeated name; another reader may keep the first. Neither is trusted.
  if (hasDuplicateMemberNames(text, value)) {
    throw new EmbedTokenMalformed(`The embed token ${part} repeats a member name.`);
  }
  return value;
}

type VerifiedClaims = Omit<VerifiedEmbedToken, 'kid' | 'keyStatus'>;

/** Claim checks: presence, exact types, issuer/audience, time window and lifetime cap. */
function validateClaims(
  claims: Record<string, unknown>,
  options: EmbedTokenVerifierOptions,
  nowSeconds: number,
): VerifiedClaims {
  const { iss, aud, sub, tid, eid, rsc, prm, jti, iat, nbf, exp } = claims;
  if (typeof iss !== 'string' || iss !== options.issuer) throw new EmbedTokenClaimInvalid('iss');
  if (typeof aud !== 'string' || aud !== options.audience) throw new EmbedTokenClaimInvalid('aud');

  if (!isNumericDate(exp)) throw new EmbedTokenClaimInvalid('exp');
  if (!isNumericDate(iat)) throw new EmbedTokenClaimInvalid('iat');
  if (nbf !== undefined && !isNumericDate(nbf)) throw new EmbedTokenClaimInvalid('nbf');
  if (exp <= nowSeconds) throw new EmbedTokenExpired();
  if (iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) throw new EmbedTokenClaimInvalid('iat');
  if (nbf !== undefined && nbf > nowSeconds + CLOCK_TOLERANCE_SECONDS) throw new EmbedTokenClaimInvalid('nbf');
  // maxTokenAge: however far `exp` is, no token outlives the cap counted from its issue time.
  if (nowSeconds - iat - CLOCK_TOLERANCE_SECONDS > MAX_TOKEN_LIFETIME_SECONDS) throw new EmbedTokenExpired();
  if (exp <= iat || exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw new EmbedTokenClaimInvalid('exp');

  if (typeof jti !== 'string' || !JTI_PATTERN.test(jti)) throw new EmbedTokenClaimInvalid('jti');
  if (!isValidSubject(sub)) throw new EmbedTokenClaimInvalid('sub');
  if (!isTenantId(tid)) throw new EmbedTokenClaimInvalid('tid');
  if (typeof eid !== 'string' || !ID_PATTERN.test(eid)) throw new EmbedTokenClaimInvalid('eid');
  if (!isEmbedResource(rsc)) throw new EmbedTokenClaimInvalid('rsc');
  if (prm !== undefined && !isPlainObject(prm)) throw new EmbedTokenClaimInvalid('prm');

  return {
    jti,
    sub,
    tenantId: tid,
    embedId: eid,
    resource: { type: rsc.type, id: rsc.id },
    params: prm ?? {},
    issuedAt: iat,
    notBefore: nbf,
    expiresAt: exp,
  };
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
