import { SignerRequired, ViewerNotInTenant } from '#errors';
import type { AuditRepository } from '#control/audit';
import type { DashboardRepository } from '#control/dashboards';
import type { EmbedRepository } from '#control/embeds';
import { GROUP_EMBED_SIGNERS, type Caller } from '#shared/identity';
import type { SigningKeyStore } from '#keys/signing-key-store';
import { prepareTokenParameters } from '#token/params';
import { signEmbedToken } from '#token/sign';
import { loadEmbedTarget, modeOf } from './resources.ts';
import type { UserDirectory } from '#shared/user-directory';

/** A request to sign an embed token (already shape-validated by the handler). */
export interface IssueEmbedTokenRequest {
  readonly embedId: string;
  /** Locked values (signers only) and editable defaults. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Cognito username of the viewer; omitted or the caller's own → a token for the caller. */
  readonly viewer?: string;
  readonly lifetimeSeconds?: number;
}

export interface IssuedEmbedToken {
  readonly token: string;
  readonly jti: string;
  /** ISO time. */
  readonly expiresAt: string;
  /** The viewer URL with the token in the fragment, never in the query string. */
  readonly embedUrl: string;
  readonly viewerSub: string;
}

export interface EmbedTokenIssuerDeps {
  readonly embeds: EmbedRepository;
  readonly dashboards: DashboardRepository;
  readonly keys: SigningKeyStore;
  readonly viewers: UserDirectory;
  readonly audit: AuditRepository;
  readonly issuer: string;
  readonly audience: string;
  /** Base URL of the embed viewer; the embed URL is `<base>/embed/<tenantId>/<embedId>#token=<token>`. */
  readonly viewerBaseUrl: string;
  readonly now: () => number;
}

/** Binds the issuer's dependencies once (at cold start). */
export function createEmbedTokenIssuer(
  deps: EmbedTokenIssuerDeps,
): (caller: Caller, request: IssueEmbedTokenRequest) => Promise<IssuedEmbedToken> {
  return (caller, request) => issueEmbedToken(deps, caller, request);
}

/**
 * Signs an embed token. A plain user gets a token for themself only; a member of the tenant's
 * `embed-signers` group may name any viewer of its own tenant and set locked parameters. The
 * token's tenant is always the caller's verified tenant.
 */
export async function issueEmbedToken(
  deps: EmbedTokenIssuerDeps,
  caller: Caller,
  request: IssueEmbedTokenRequest,
): Promise<IssuedEmbedToken> {
  const isSigner = caller.groups.includes(GROUP_EMBED_SIGNERS);
  const viewer = await resolveViewer(deps.viewers, caller, request.viewer, isSigner);

  const target = await loadEmbedTarget(deps, caller.tenantId, request.embedId);
  const requested = request.params ?? {};
  if (!isSigner && Object.keys(requested).some((name) => modeOf(target.embed, name) === 'locked')) {
    throw new SignerRequired();
  }
  const lockedParams = prepareTokenParameters({
    definitions: target.dashboard.parameters,
    modes: target.embed.parameterModes,
    params: requested,
  });
  const signingKey = await deps.keys.getSigningKey(caller.tenantId);
  const signed = await signEmbedToken({
    signingKey,
    issuer: deps.issuer,
    audience: deps.audience,
    viewer: { sub: viewer.sub, tenantId: caller.tenantId },
    embedId: target.embed.embedId,
    resource: { type: target.embed.resource.type, id: target.embed.resource.id },
    lockedParams,
    ...(request.lifetimeSeconds !== undefined ? { lifetimeSeconds: request.lifetimeSeconds } : {}),
    maxLifetimeSeconds: target.embed.maxTokenLifetimeSeconds,
    now: deps.now(),
  });
  await deps.audit.append({
    tenantId: caller.tenantId,
    sub: caller.sub,
    action: viewer.sub === caller.sub ? 'embed-token.issue' : 'embed-token.issue-for-viewer',
    embedId: target.embed.embedId,
    outcome: 'allowed',
    reason: 'OK',
  });
  const base = deps.viewerBaseUrl.replace(/\/+$/, '');
  return {
    token: signed.token,
    jti: signed.jti,
    expiresAt: new Date(signed.expiresAt * 1000).toISOString(),
    // The tenant is in the path so the viewer page can answer with the embed's frame-ancestors
    // before any credential is available; the token itself only ever travels in the fragment.
    embedUrl: `${base}/embed/${caller.tenantId}/${encodeURIComponent(target.embed.embedId)}#token=${signed.token}`,
    viewerSub: viewer.sub,
  };
}

async function resolveViewer(
  directory: UserDirectory,
  caller: Caller,
  viewer: string | undefined,
  isSigner: boolean,
): Promise<{ sub: string }> {
  if (viewer === undefined || viewer === caller.username) return { sub: caller.sub };
  if (!isSigner) throw new SignerRequired();
  const user = await directory.findByUsername(viewer);
  // Another tenant's user and an unknown user look the same: the signer learns nothing.
  if (!user || user.tenantId !== caller.tenantId) throw new ViewerNotInTenant();
  return { sub: user.sub };
}
