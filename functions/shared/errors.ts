/**
 * The one error module. Every error the product can return to a caller is a subclass of
 * `EmbedError` with a stable machine-readable `code` and an HTTP `status`. Messages are
 * written for the caller and never carry internals (no key material, no table names, no
 * stack traces). The original failure, when there is one, travels as `cause` for logs only.
 */
/**
 * Every error code the API can return: part of the public contract. Clients (the viewer's message
 * table in `web/viewer/errors.ts`) are type-checked against this union, so a renamed code breaks the
 * build instead of silently falling back to a generic message.
 */
export const ERROR_CODES = [
  'EMBED_TOKEN_INVALID',
  'EMBED_TOKEN_TOO_LARGE',
  'EMBED_TOKEN_MALFORMED',
  'EMBED_TOKEN_ALG_NOT_ALLOWED',
  'EMBED_TOKEN_HEADER_INVALID',
  'EMBED_TOKEN_KEY_UNKNOWN',
  'EMBED_TOKEN_KEY_RETIRED',
  'EMBED_TOKEN_SIGNATURE_INVALID',
  'EMBED_TOKEN_CLAIM_INVALID',
  'EMBED_TOKEN_EXPIRED',
  'EMBED_TOKEN_ALREADY_REDEEMED',
  'EMBED_TOKEN_REVOKED',
  'EMBED_TOKEN_IDENTITY_MISMATCH',
  'EMBED_TOKEN_LIFETIME_TOO_LONG',
  'PARAM_UNKNOWN',
  'PARAM_DISABLED',
  'PARAM_LOCKED',
  'PARAM_INVALID',
  'PARAM_MISSING',
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'EMBED_SIGNER_REQUIRED',
  'VIEWER_NOT_IN_TENANT',
  'TENANT_ADMIN_REQUIRED',
  'NOT_FOUND',
  'CONFLICT',
  'EMBED_DISABLED',
  'EMBED_SESSION_INVALID',
  'DATASET_SCHEMA_INVALID',
  'QUERY_INVALID',
  'QUERY_TOO_LARGE',
  'IMPORT_ROWS_INVALID',
  'IMPORT_IN_PROGRESS',
  'IMPORT_TOO_LARGE',
  'ROTATION_TOO_SOON',
  'TENANT_NOT_ONBOARDED',
  'SIGNING_KEY_ROTATION_FAILED',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  'DEPENDENCY_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class EmbedError extends Error {
  /** Stable code that clients switch on; part of the public API. */
  abstract readonly code: ErrorCode;
  /** HTTP status the handlers map this error to. */
  abstract readonly status: number;
  /** Optional structured, caller-safe detail (e.g. the offending field or parameter name). */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.details) this.details = Object.freeze({ ...options.details });
  }

  /** The caller-safe body: `{ code, message, details? }`. */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: { ...this.details } }
      : { code: this.code, message: this.message };
  }
}

// ---------------------------------------------------------------------------------------------
// Embed tokens: 401 for anything that makes the token itself unacceptable, 403 when a valid
// token is presented by someone it was not issued to.
// ---------------------------------------------------------------------------------------------

/** The token is malformed, has a bad signature, or fails a claim check. */
export class EmbedTokenInvalid extends EmbedError {
  readonly code: ErrorCode = 'EMBED_TOKEN_INVALID';
  readonly status: number = 401;
  constructor(
    message = 'The embed token is invalid.',
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
  }
}

/** The token is larger than the size cap; rejected before any parsing. */
export class EmbedTokenTooLarge extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_TOO_LARGE';
  constructor() {
    super('The embed token is larger than allowed.');
  }
}

/** The token is not a three-part compact JWS (JWE, JSON serialization, wrong segment count). */
export class EmbedTokenMalformed extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_MALFORMED';
  constructor(message = 'The embed token is not a compact JWS.', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The protected header uses an algorithm outside the allowlist (including `none`). */
export class EmbedTokenAlgorithmNotAllowed extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_ALG_NOT_ALLOWED';
  constructor() {
    super('The embed token uses an algorithm that is not allowed.');
  }
}

/** The protected header carries a forbidden or unknown member (`jku`, `x5u`, `jwk`, `x5c`, unknown `crit`) or a wrong `typ`. */
export class EmbedTokenHeaderInvalid extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_HEADER_INVALID';
  constructor(message = 'The embed token header is not acceptable.') {
    super(message);
  }
}

/** The `kid` is not one of the tenant's known keys. */
export class EmbedTokenKeyUnknown extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_KEY_UNKNOWN';
  constructor() {
    super('The embed token was signed with an unknown key.');
  }
}

/** The `kid` names a key that has been retired by rotation (older than the previous key). */
export class EmbedTokenKeyRetired extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_KEY_RETIRED';
  constructor() {
    super('The embed token was signed with a retired key.');
  }
}

/** The signature does not verify. */
export class EmbedTokenSignatureInvalid extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_SIGNATURE_INVALID';
  constructor(options?: { cause?: unknown }) {
    super('The embed token signature is invalid.', options);
  }
}

/** A required claim is missing or has the wrong type or value (`iss`, `aud`, `nbf`, `iat`…). */
export class EmbedTokenClaimInvalid extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_CLAIM_INVALID';
  constructor(claim: string, message = `The embed token claim "${claim}" is missing or invalid.`) {
    super(message, { details: { claim } });
  }
}

/** The token has expired (or is older than the maximum token age). */
export class EmbedTokenExpired extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_EXPIRED';
  constructor() {
    super('The embed token has expired.');
  }
}

/** The token was already redeemed once. */
export class EmbedTokenAlreadyRedeemed extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_ALREADY_REDEEMED';
  constructor() {
    super('The embed token has already been used.');
  }
}

/** The token, its viewer or its embed has been revoked. */
export class EmbedTokenRevoked extends EmbedTokenInvalid {
  override readonly code = 'EMBED_TOKEN_REVOKED';
  constructor() {
    super('The embed token has been revoked.');
  }
}

/** A valid token presented by someone other than the viewer it was issued to (other `sub` or tenant). */
export class EmbedTokenIdentityMismatch extends EmbedError {
  readonly code = 'EMBED_TOKEN_IDENTITY_MISMATCH';
  readonly status = 403;
  constructor() {
    super('This embed was not issued to you.');
  }
}

/** A token lifetime above the hard cap (or the embed's own maximum) was requested. */
export class EmbedTokenLifetimeTooLong extends EmbedError {
  readonly code = 'EMBED_TOKEN_LIFETIME_TOO_LONG';
  readonly status = 400;
  constructor(maxSeconds: number) {
    super(`The requested token lifetime exceeds the maximum of ${maxSeconds} seconds.`, { details: { maxSeconds } });
  }
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/** Base of parameter errors; all are 400 and name the parameter. */
export abstract class ParameterError extends EmbedError {
  readonly status = 400;
  constructor(parameter: string, message: string) {
    super(message, { details: { parameter } });
  }
}

/** The parameter is not declared by the dashboard. */
export class ParamUnknown extends ParameterError {
  readonly code = 'PARAM_UNKNOWN';
  constructor(parameter: string) {
    super(parameter, `Unknown parameter "${parameter}".`);
  }
}

/** The parameter is disabled for this embed: no value is accepted. */
export class ParamDisabled extends ParameterError {
  readonly code = 'PARAM_DISABLED';
  constructor(parameter: string) {
    super(parameter, `Parameter "${parameter}" is disabled for this embed.`);
  }
}

/** The parameter is locked: only the signed token may set it. */
export class ParamLocked extends ParameterError {
  readonly code = 'PARAM_LOCKED';
  constructor(parameter: string) {
    super(parameter, `Parameter "${parameter}" is locked and cannot be changed by the viewer.`);
  }
}

/** The value does not match the declared type, allowed values, range or length. */
export class ParamInvalid extends ParameterError {
  readonly code = 'PARAM_INVALID';
  constructor(parameter: string, reason: string) {
    super(parameter, `Parameter "${parameter}" is invalid: ${reason}.`);
  }
}

/** A locked parameter has no value in the token and no default. */
export class ParamMissing extends ParameterError {
  readonly code = 'PARAM_MISSING';
  constructor(parameter: string) {
    super(parameter, `Parameter "${parameter}" requires a value.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Requests, authorization, resources
// ---------------------------------------------------------------------------------------------

/** A request body or field failed validation. `details.field` names the field. */
export class ValidationFailed extends EmbedError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
  constructor(field: string, reason: string) {
    super(`Invalid request: "${field}" ${reason}.`, { details: { field, reason } });
  }
}

/** No verified identity on the request. */
export class Unauthenticated extends EmbedError {
  readonly code = 'UNAUTHENTICATED';
  readonly status = 401;
  constructor(message = 'Authentication is required.') {
    super(message);
  }
}

/** The caller is authenticated but may not do this. */
export class Forbidden extends EmbedError {
  readonly code: ErrorCode = 'FORBIDDEN';
  readonly status = 403;
  constructor(message = 'You are not allowed to do this.') {
    super(message);
  }
}

/** Signing for another viewer, or setting locked parameters, needs the `embed-signers` group. */
export class SignerRequired extends Forbidden {
  override readonly code = 'EMBED_SIGNER_REQUIRED';
  constructor(message = 'Only embed signers may sign for another viewer or set locked parameters.') {
    super(message);
  }
}

/** The viewer named by a signer is not a user of the signer's tenant (or does not exist). */
export class ViewerNotInTenant extends Forbidden {
  override readonly code = 'VIEWER_NOT_IN_TENANT';
  constructor() {
    super('The viewer is not a user of your tenant.');
  }
}

/** The admin API needs the `tenant-admins` group. */
export class AdminRequired extends Forbidden {
  override readonly code = 'TENANT_ADMIN_REQUIRED';
  constructor() {
    super('This needs the tenant-admins group.');
  }
}

/** The resource does not exist, or exists in another tenant (indistinguishable on purpose). */
export class NotFound extends EmbedError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor(kind: string) {
    super(`The ${kind} was not found.`, { details: { resource: kind } });
  }
}

/** The resource already exists, or a conditional write lost a race. */
export class Conflict extends EmbedError {
  readonly code: ErrorCode = 'CONFLICT';
  readonly status = 409;
  constructor(message: string) {
    super(message);
  }
}

/** The embed exists but is disabled. */
export class EmbedDisabled extends EmbedError {
  readonly code = 'EMBED_DISABLED';
  readonly status = 403;
  constructor() {
    super('This embed is disabled.');
  }
}

/** The embed session is missing, expired or belongs to someone else. */
export class EmbedSessionInvalid extends EmbedError {
  readonly code = 'EMBED_SESSION_INVALID';
  readonly status = 401;
  constructor(message = 'The embed session is invalid or has expired.') {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Datasets and queries
// ---------------------------------------------------------------------------------------------

/** A dataset schema is invalid (bad column name, type, partition column…). */
export class DatasetSchemaInvalid extends EmbedError {
  readonly code = 'DATASET_SCHEMA_INVALID';
  readonly status = 400;
  constructor(reason: string, details?: Record<string, unknown>) {
    super(`The dataset schema is invalid: ${reason}.`, details ? { details } : undefined);
  }
}

/** A widget or query names a column, operator or metric that the schema does not allow. */
export class QueryInvalid extends EmbedError {
  readonly code = 'QUERY_INVALID';
  readonly status = 400;
  /** The reason alone, so a caller can restate it with more context (e.g. the widget). */
  readonly reason: string;
  constructor(reason: string, details?: Record<string, unknown>) {
    const widget = typeof details?.widget === 'string' ? details.widget : undefined;
    super(
      widget === undefined
        ? `The query is invalid: ${reason}.`
        : `The query of widget "${widget}" is invalid: ${reason}.`,
      details ? { details } : undefined,
    );
    this.reason = reason;
  }

  /** The same error, naming the widget it is about (unless it already names one). */
  forWidget(widgetId: string): QueryInvalid {
    if (this.details?.widget !== undefined) return this;
    return new QueryInvalid(this.reason, { ...this.details, widget: widgetId });
  }
}

/** The query would read more rows than the row cap and truncation was not requested. */
export class QueryTooLarge extends EmbedError {
  readonly code = 'QUERY_TOO_LARGE';
  readonly status = 422;
  constructor(rowCap: number) {
    super(`The query matches more than ${rowCap} rows.`, { details: { rowCap } });
  }
}

/** An import had invalid rows; nothing was written. `details.errors` lists line, column and reason. */
export class ImportRowsInvalid extends EmbedError {
  readonly code = 'IMPORT_ROWS_INVALID';
  readonly status = 400;
  constructor(errors: ReadonlyArray<{ line: number; column?: string; reason: string }>, total: number) {
    super(`${total} row error(s); nothing was imported.`, { details: { errors: errors.slice(0, 100), total } });
  }
}

/** An import is already running for this dataset. */
export class ImportInProgress extends Conflict {
  override readonly code = 'IMPORT_IN_PROGRESS';
  constructor() {
    super('Another import of this dataset is in progress.');
  }
}

/** An import exceeds a hard limit (rows, distinct partition values); nothing was imported. */
export class ImportTooLarge extends EmbedError {
  readonly code = 'IMPORT_TOO_LARGE';
  readonly status = 413;
  constructor(reason: string, details?: Record<string, unknown>) {
    super(`The import is too large: ${reason}; nothing was imported.`, details ? { details } : undefined);
  }
}

/** Key rotation was requested too soon after the previous one (caches and live tokens need the overlap). */
export class RotationTooSoon extends Conflict {
  override readonly code = 'ROTATION_TOO_SOON';
  constructor(retryAfterSeconds: number) {
    super(`The signing key was rotated recently; try again in ${retryAfterSeconds} seconds.`);
  }
}

/** The tenant has no signing key yet (not onboarded). */
export class TenantNotOnboarded extends EmbedError {
  readonly code = 'TENANT_NOT_ONBOARDED';
  readonly status = 409;
  constructor() {
    super('The tenant has no signing key yet.');
  }
}

/**
 * A Secrets Manager rotation step cannot proceed (rotation disabled, unknown or non-pending
 * version, a secret that is not a tenant signing key). Thrown to Secrets Manager, which retries
 * or marks the rotation failed; never returned to an API caller.
 */
export class SigningKeyRotationFailed extends EmbedError {
  readonly code = 'SIGNING_KEY_ROTATION_FAILED';
  readonly status = 500;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Signing key rotation cannot proceed: ${reason}.`, options);
  }
}

/** Too many requests from this caller. */
export class RateLimited extends EmbedError {
  readonly code = 'RATE_LIMITED';
  readonly status = 429;
  constructor() {
    super('Too many requests.');
  }
}

/** Anything unexpected. The handler logs the cause; the caller sees only this. */
export class InternalError extends EmbedError {
  readonly code = 'INTERNAL_ERROR';
  readonly status = 500;
  constructor(options?: { cause?: unknown }) {
    super('An internal error occurred.', options);
  }
}

/** A dependency (DynamoDB, Secrets Manager, STS) is unavailable or throttling. */
export class DependencyUnavailable extends EmbedError {
  readonly code = 'DEPENDENCY_UNAVAILABLE';
  readonly status = 503;
  /** Seconds the caller should wait before retrying; sent as `Retry-After`. */
  readonly retryAfterSeconds: number;
  constructor(options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super('A dependency is temporarily unavailable; try again.', options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  }
}

/** What a 503 tells the caller to wait: throttling and brief outages usually clear within a second or two. */
export const DEFAULT_RETRY_AFTER_SECONDS = 2;

/** Configuration at cold start is missing or invalid: the function refuses to start. */
export class ConfigInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigInvalid';
  }
}

/** Normalise anything thrown into an `EmbedError` that is safe to return. */
export function toEmbedError(error: unknown): EmbedError {
  if (error instanceof EmbedError) return error;
  return new InternalError({ cause: error });
}
