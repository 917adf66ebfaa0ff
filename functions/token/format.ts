import { TENANT_ID_PATTERN } from '#shared/identity';

/**
 * The embed token format: a compact JWS whose protected header is exactly `{ alg, typ, kid }`.
 * Every limit the signer and the verifier share lives here, so the two cannot disagree.
 */

/** `typ` of every embed token; distinguishes it from any other JWT the same keys could ever sign. */
export const EMBED_TOKEN_TYP = 'embed+jwt';

/**
 * The one signing algorithm. ES256 was chosen by measurement (see `bench/tokens.ts`): on Node 20
 * (OpenSSL 3) a P-256 verify is faster than an Ed25519 verify, and it is what jsonwebtoken can
 * be compared with. The allowlist is this one value; a key set entry must also name it.
 */
export const EMBED_TOKEN_ALG = 'ES256';
export type EmbedTokenAlg = typeof EMBED_TOKEN_ALG;
export const EMBED_TOKEN_ALGORITHMS: readonly string[] = Object.freeze([EMBED_TOKEN_ALG]);

/** Tokens larger than this are refused before anything is decoded. */
export const MAX_EMBED_TOKEN_BYTES = 8 * 1024;

/** Lifetime used when neither the request nor the embed says otherwise. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;

/** Hard cap on any token's lifetime (`exp - iat`); also the verifier's `maxTokenAge`. */
export const MAX_TOKEN_LIFETIME_SECONDS = 600;

/**
 * Tolerance for `iat`/`nbf` in the future (another container's clock running slightly ahead).
 * Expiry is enforced without tolerance: both signer and verifier run on NTP-synced servers, and
 * a token whose `exp` has been reached is refused.
 */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Header members an embed token may carry; anything else (`jku`, `jwk`, `x5u`, `x5c`, `crit`, `b64`…) is refused. */
export const ALLOWED_HEADER_MEMBERS: ReadonlySet<string> = new Set(['alg', 'typ', 'kid']);

/** Random bytes in `jti` (128 bits), i.e. 22 base64url characters. */
export const JTI_BYTES = 16;
export const JTI_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

/** Embed and resource ids: opaque, URL-safe identifiers. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Kinds of resource a token may open. */
export const RESOURCE_TYPES: ReadonlySet<string> = new Set(['dashboard', 'chart']);

/** Largest key generation a kid may carry; keeps the number an exact small integer. */
const MAX_KEY_GENERATION = 999_999_999;

/**
 * `kid = <tenantId>.<generation>`. The pattern is anchored and admits nothing but a tenant id, one
 * dot and a positive integer without leading zeros: nothing a path, a shell or a query could use.
 */
const KID_PATTERN = new RegExp(`^(${TENANT_ID_PATTERN.source.slice(1, -1)})\\.([1-9][0-9]{0,8})$`);

/** A parsed key id. */
export interface KeyId {
  readonly kid: string;
  readonly tenantId: string;
  readonly generation: number;
}

/** Parses a kid strictly; `undefined` when it is not of the form `<tenantId>.<n>`. */
export function parseKid(kid: unknown): KeyId | undefined {
  if (typeof kid !== 'string' || kid.length > 80) return undefined;
  const match = KID_PATTERN.exec(kid);
  if (!match) return undefined;
  return { kid, tenantId: match[1]!, generation: Number(match[2]) };
}

/** Builds the kid of a tenant's key generation. */
export function formatKid(tenantId: string, generation: number): string {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new RangeError('Invalid tenant id for a kid');
  if (!Number.isInteger(generation) || generation < 1 || generation > MAX_KEY_GENERATION) {
    throw new RangeError('Invalid key generation for a kid');
  }
  return `${tenantId}.${generation}`;
}

/** The resource an embed token opens. */
export interface EmbedResource {
  readonly type: 'dashboard' | 'chart';
  readonly id: string;
}

/** The claims of an embed token, as signed. */
export interface EmbedTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly tid: string;
  readonly eid: string;
  readonly rsc: EmbedResource;
  readonly prm: Readonly<Record<string, unknown>>;
  readonly jti: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

/** A subject is a non-empty string with no surrounding whitespace (compared byte for byte with the caller's). */
export function isValidSubject(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128 && value.trim() === value;
}

/** True for `{ type: 'dashboard' | 'chart', id }` with exactly those two members. */
export function isEmbedResource(value: unknown): value is EmbedResource {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 2 &&
    typeof value.type === 'string' &&
    RESOURCE_TYPES.has(value.type) &&
    typeof value.id === 'string' &&
    ID_PATTERN.test(value.id)
  );
}

/** A JSON object (not an array, not null, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
