import { NotFound } from '#errors';
import type { EmbedRepository } from '#control/embeds';
import type { RevocationRepository } from '#control/revocations';
import type { UserDirectory } from '#shared/user-directory';
import { MAX_TOKEN_LIFETIME_SECONDS } from '#token/format';

export interface RevocationDeps {
  readonly revocations: RevocationRepository;
  readonly embeds: EmbedRepository;
  readonly users: UserDirectory;
  readonly now: () => number;
}

export type RevocationRequest =
  | { readonly scope: 'token'; readonly jti: string }
  | { readonly scope: 'user'; readonly sub: string }
  | { readonly scope: 'embed'; readonly embedId: string };

export type RevocationResult =
  | { readonly scope: 'token'; readonly jti: string }
  | { readonly scope: 'user'; readonly sub: string; readonly revokedBefore: number }
  | { readonly scope: 'embed'; readonly embedId: string; readonly revokedBefore: number };

/**
 * Revokes a token, every token of a user issued up to now, or every token of an embed issued up to
 * now, in the admin's own tenant. A user who is not a user of this tenant, or an embed the tenant
 * does not have, is `NOT_FOUND` (indistinguishable from another tenant's): a typo must not look
 * like a revocation that took effect. A token id cannot be checked (tokens are not stored until
 * redeemed), so any well-formed `jti` is accepted.
 */
export async function revoke(deps: RevocationDeps, tenantId: string, by: string, request: RevocationRequest) {
  switch (request.scope) {
    case 'token': {
      // No live token outlives the hard cap: keeping the revocation that long covers any token with this id.
      const exp = Math.floor(deps.now() / 1000) + MAX_TOKEN_LIFETIME_SECONDS + 60;
      await deps.revocations.revokeToken({ tenantId, jti: request.jti, exp, by });
      return { scope: 'token', jti: request.jti } satisfies RevocationResult;
    }
    case 'user': {
      const user = await deps.users.findBySub(request.sub);
      if (!user || user.tenantId !== tenantId) throw new NotFound('user');
      const revokedBefore = await deps.revocations.revokeUser({ tenantId, sub: request.sub, by });
      return { scope: 'user', sub: request.sub, revokedBefore } satisfies RevocationResult;
    }
    case 'embed': {
      if (!(await deps.embeds.get(tenantId, request.embedId))) throw new NotFound('embed');
      const revokedBefore = await deps.revocations.revokeEmbed({ tenantId, embedId: request.embedId, by });
      return { scope: 'embed', embedId: request.embedId, revokedBefore } satisfies RevocationResult;
    }
  }
}
