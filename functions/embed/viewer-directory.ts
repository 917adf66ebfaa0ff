import {
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { DependencyUnavailable } from '#errors';
import { isTenantId } from '#shared/identity';

/** A user of the pool, as the signer needs to know them. */
export interface DirectoryUser {
  readonly sub: string;
  readonly tenantId: string;
}

/** Finds a viewer by Cognito username; undefined when the user does not exist or is disabled. */
export interface ViewerDirectory {
  findByUsername(username: string): Promise<DirectoryUser | undefined>;
}

const USERNAME_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

/**
 * The Cognito user pool as the directory of viewers. A signer may sign for "any user of its own
 * tenant"; the pool is the only authority on which tenant a user belongs to (the immutable
 * `custom:tenant_id`). Answers are cached briefly so a burst of signatures costs one lookup.
 */
export function createCognitoViewerDirectory(options: {
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}): ViewerDirectory {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { user: DirectoryUser | undefined; expiresAt: number }>();
  return {
    async findByUsername(username) {
      if (!USERNAME_PATTERN.test(username)) return undefined;
      const cached = cache.get(username);
      if (cached && cached.expiresAt > now()) return cached.user;
      let user: DirectoryUser | undefined;
      try {
        const result = await options.cognito.send(
          new AdminGetUserCommand({ UserPoolId: options.userPoolId, Username: username }),
        );
        const attributes = new Map((result.UserAttributes ?? []).map((a) => [a.Name, a.Value]));
        const sub = attributes.get('sub');
        const tenantId = attributes.get('custom:tenant_id');
        user =
          result.Enabled !== false && typeof sub === 'string' && sub.length > 0 && isTenantId(tenantId)
            ? { sub, tenantId }
            : undefined;
      } catch (error) {
        if (
          !(error instanceof UserNotFoundException) &&
          (error as { name?: string }).name !== 'UserNotFoundException'
        ) {
          throw new DependencyUnavailable({ cause: error });
        }
        user = undefined;
      }
      if (cache.size > 10_000) cache.clear();
      cache.set(username, { user, expiresAt: now() + ttlMs });
      return user;
    },
  };
}
