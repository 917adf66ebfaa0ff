import {
  AdminGetUserCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DependencyUnavailable, InternalError } from '#errors';
import { isTransientAwsError } from './clients.ts';
import { isTenantId } from './identity.ts';

/** A user of the pool, as the product needs to know them. */
export interface DirectoryUser {
  readonly sub: string;
  readonly tenantId: string;
}

/**
 * The users of the product (the Cognito user pool). `undefined` when the user does not exist. The pool is the only authority on which tenant a user belongs to (the immutable
 * `custom:tenant_id`).
 */
export interface UserDirectory {
  /** By Cognito username (what a signer names a viewer by); disabled users are not found. */
  findByUsername(username: string): Promise<DirectoryUser | undefined>;
  /** By the user's `sub` (what tokens, sessions and revocations carry), disabled users included. */
  findBySub(sub: string): Promise<DirectoryUser | undefined>;
}

const USERNAME_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;
/** Subs are UUIDs; the pattern also keeps every character that could end the filter's quoted string out. */
const SUB_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The Cognito user pool as the user directory. Answers are cached briefly per container, so a
 * burst of signatures or revocations costs one lookup. Cognito failures that may pass
 * (throttling, timeouts, 5xx) are `DependencyUnavailable`; any other failure is `InternalError`.
 */
export function createCognitoUserDirectory(options: {
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}): UserDirectory {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { user: DirectoryUser | undefined; expiresAt: number }>();

  const cached = async (key: string, load: () => Promise<DirectoryUser | undefined>) => {
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now()) return hit.user;
    let user: DirectoryUser | undefined;
    try {
      user = await load();
    } catch (error) {
      if ((error as { name?: string }).name !== 'UserNotFoundException') {
        throw isTransientAwsError(error)
          ? new DependencyUnavailable({ cause: error })
          : new InternalError({ cause: error });
      }
      user = undefined;
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { user, expiresAt: now() + ttlMs });
    return user;
  };

  return {
    async findByUsername(username) {
      if (!USERNAME_PATTERN.test(username)) return undefined;
      return cached(`username:${username}`, async () => {
        const result = await options.cognito.send(
          new AdminGetUserCommand({ UserPoolId: options.userPoolId, Username: username }),
        );
        return result.Enabled === false ? undefined : toUser(result.UserAttributes);
      });
    },
    async findBySub(sub) {
      if (!SUB_PATTERN.test(sub)) return undefined;
      return cached(`sub:${sub}`, async () => {
        const result = await options.cognito.send(
          new ListUsersCommand({ UserPoolId: options.userPoolId, Filter: `sub = "${sub}"`, Limit: 1 }),
        );
        const found = result.Users?.[0];
        // Disabled users are found: an admin revoking the sessions of a user just disabled must succeed.
        if (!found) return undefined;
        const user = toUser(found.Attributes);
        // The filter is an exact match on sub; checking it again costs nothing.
        return user?.sub === sub ? user : undefined;
      });
    },
  };
}

function toUser(attributes: readonly AttributeType[] | undefined): DirectoryUser | undefined {
  const values = new Map((attributes ?? []).map((a) => [a.Name, a.Value]));
  const sub = values.get('sub');
  const tenantId = values.get('custom:tenant_id');
  return typeof sub === 'string' && sub.length > 0 && isTenantId(tenantId) ? { sub, tenantId } : undefined;
}
