import { Unauthenticated } from '#errors';

/** Tenant ids are short lowercase slugs; they start every data-table partition key and every kid. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** True when `value` is a syntactically valid tenant id. */
export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

/**
 * The authenticated caller, built only from claims that a Cognito authorizer (or the local
 * gateway, which verifies the same way) has verified. Never from a body or a query string.
 */
export interface Caller {
  /** Cognito `sub` (a UUID). */
  readonly sub: string;
  /** `cognito:username` when present (for audit display only, never for authorization). */
  readonly username?: string;
  /** From the immutable `custom:tenant_id` attribute. */
  readonly tenantId: string;
  /** From `cognito:groups`. */
  readonly groups: readonly string[];
  /** Custom attributes without the `custom:` prefix, e.g. `{ region: 'EU' }`. */
  readonly attributes: Readonly<Record<string, string>>;
}

export const GROUP_TENANT_ADMINS = 'tenant-admins';
export const GROUP_EMBED_SIGNERS = 'embed-signers';

/**
 * Builds a `Caller` from verified Cognito claims (the shape API Gateway's Cognito authorizer
 * puts in `requestContext.authorizer.claims`: every value a string, groups comma-separated or a
 * JSON-ish array string, or an array when the local gateway passes it through).
 */
export function callerFromClaims(claims: Readonly<Record<string, unknown>> | undefined | null): Caller {
  if (!claims) throw new Unauthenticated();
  const sub = claims.sub;
  const tenantId = claims['custom:tenant_id'];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new Unauthenticated();
  if (!isTenantId(tenantId)) throw new Unauthenticated('The identity has no valid tenant.');
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(claims)) {
    if (key.startsWith('custom:') && key !== 'custom:tenant_id' && typeof value === 'string') {
      attributes[key.slice('custom:'.length)] = value;
    }
  }
  const username = typeof claims['cognito:username'] === 'string' ? (claims['cognito:username'] as string) : undefined;
  return Object.freeze({
    sub,
    tenantId,
    groups: Object.freeze(parseGroups(claims['cognito:groups'])),
    attributes: Object.freeze(attributes),
    ...(username ? { username } : {}),
  });
}

function parseGroups(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.filter((g): g is string => typeof g === 'string');
  if (typeof raw !== 'string' || raw.trim() === '') return [];
  // API Gateway renders a list claim as "[a, b]" (REST) or "a,b"; accept both.
  const trimmed = raw.trim().replace(/^\[/, '').replace(/\]$/, '');
  return trimmed
    .split(/[,\s]+/)
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}
