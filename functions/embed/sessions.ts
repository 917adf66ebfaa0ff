import { EmbedTokenClaimInvalid, EmbedTokenRevoked } from '#errors';
import type { AuditRepository } from '#control/audit';
import type { DashboardRepository } from '#control/dashboards';
import type { EmbedRepository } from '#control/embeds';
import type { RedemptionRepository } from '#control/redemptions';
import type { RevocationRepository } from '#control/revocations';
import type { SessionRepository } from '#control/sessions';
import type { Caller } from '#shared/identity';
import { resolveParameters } from '#token/params';
import type { VerifiedEmbedToken } from '#token/verify';
import {
  type DashboardView,
  type EditableParameterView,
  type EmbedTarget,
  dashboardView,
  editableParameterViews,
  loadEmbedTarget,
  splitByMode,
} from './resources.ts';

export interface EmbedSessionDeps {
  readonly embeds: EmbedRepository;
  readonly dashboards: DashboardRepository;
  readonly sessions: SessionRepository;
  readonly redemptions: RedemptionRepository;
  readonly revocations: RevocationRepository;
  readonly audit: AuditRepository;
  /** The one verification function (signature, claims, identity binding). */
  readonly verify: (token: unknown, caller: Caller) => Promise<VerifiedEmbedToken>;
}

export interface OpenedEmbedSession {
  readonly sessionId: string;
  /** ISO time; the viewer renews before it. */
  readonly expiresAt: string;
  readonly embed: { readonly id: string; readonly allowedOrigins: readonly string[] };
  readonly dashboard: DashboardView;
  readonly parameters: EditableParameterView[];
}

/**
 * Redeems an embed token once and opens an embed session. Order matters: the token is verified
 * and bound to the caller BEFORE it is redeemed, so someone else presenting a stolen token
 * cannot burn it for its owner; revocation is checked before redemption for the same reason.
 */
export async function openEmbedSession(
  deps: EmbedSessionDeps,
  caller: Caller,
  token: unknown,
): Promise<OpenedEmbedSession> {
  const verified = await deps.verify(token, caller);
  const target = await acceptableTarget(deps, verified);
  await deps.redemptions.redeemOnce(verified.jti, verified.tenantId, verified.expiresAt);

  const effective = resolveParameters({
    definitions: target.dashboard.parameters,
    modes: target.embed.parameterModes,
    tokenParams: verified.params,
    requestParams: {},
  });
  const { locked, editable } = splitByMode(target.embed, effective);
  const session = await deps.sessions.create({
    tenantId: verified.tenantId,
    sub: verified.sub,
    embedId: verified.embedId,
    jti: verified.jti,
    tokenIssuedAt: verified.issuedAt,
    lockedParams: locked,
    editableParams: editable,
    expiresAt: verified.expiresAt * 1000,
  });
  await deps.audit.append({
    tenantId: caller.tenantId,
    sub: caller.sub,
    action: 'embed-session.open',
    embedId: verified.embedId,
    outcome: 'allowed',
    reason: 'OK',
  });
  return {
    sessionId: session.sessionId,
    expiresAt: new Date(session.expiresAt).toISOString(),
    embed: { id: target.embed.embedId, allowedOrigins: target.embed.allowedOrigins },
    dashboard: dashboardView(target),
    parameters: editableParameterViews(target, editable),
  };
}

/**
 * Renews a live session in place with a new token for the same viewer, tenant and embed: the
 * session id and the viewer's editable state stay; the locked values follow the new token.
 */
export async function renewEmbedSession(
  deps: EmbedSessionDeps,
  caller: Caller,
  input: { sessionId: string; token: unknown },
): Promise<{ sessionId: string; expiresAt: string }> {
  const verified = await deps.verify(input.token, caller);
  const owner = { tenantId: verified.tenantId, sub: verified.sub, embedId: verified.embedId };
  // Fails with EMBED_SESSION_INVALID unless the session is live and belongs to this viewer and embed.
  const session = await deps.sessions.get(input.sessionId, owner);
  // A session whose current token was revoked stays dead: a fresh token opens a new session, it
  // does not revive this one.
  const current = await deps.revocations.isRevoked({
    tenantId: session.tenantId,
    jti: session.jti,
    sub: session.sub,
    eid: session.embedId,
    iat: session.tokenIssuedAt,
  });
  if (current.revoked) throw new EmbedTokenRevoked();
  const target = await acceptableTarget(deps, verified);
  await deps.redemptions.redeemOnce(verified.jti, verified.tenantId, verified.expiresAt);
  const effective = resolveParameters({
    definitions: target.dashboard.parameters,
    modes: target.embed.parameterModes,
    tokenParams: verified.params,
    requestParams: session.editableParams,
  });
  const { locked } = splitByMode(target.embed, effective);
  const renewed = await deps.sessions.renew(input.sessionId, owner, {
    jti: verified.jti,
    tokenIssuedAt: verified.issuedAt,
    lockedParams: locked,
    expiresAt: verified.expiresAt * 1000,
  });
  await deps.audit.append({
    tenantId: caller.tenantId,
    sub: caller.sub,
    action: 'embed-session.renew',
    embedId: verified.embedId,
    outcome: 'allowed',
    reason: 'OK',
  });
  return { sessionId: renewed.sessionId, expiresAt: new Date(renewed.expiresAt).toISOString() };
}

/** The embed of a verified token, if it still exists, is enabled, matches the token and is not revoked. */
async function acceptableTarget(deps: EmbedSessionDeps, verified: VerifiedEmbedToken): Promise<EmbedTarget> {
  const target = await loadEmbedTarget(deps, verified.tenantId, verified.embedId);
  const resource = target.embed.resource;
  if (resource.type !== verified.resource.type || resource.id !== verified.resource.id) {
    throw new EmbedTokenClaimInvalid('rsc');
  }
  const revocation = await deps.revocations.isRevoked({
    tenantId: verified.tenantId,
    jti: verified.jti,
    sub: verified.sub,
    eid: verified.embedId,
    iat: verified.issuedAt,
  });
  if (revocation.revoked) throw new EmbedTokenRevoked();
  return target;
}
