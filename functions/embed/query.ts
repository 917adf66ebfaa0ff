import { EmbedTokenRevoked } from '#errors';
import type { AuditRepository } from '#control/audit';
import type { DashboardRepository } from '#control/dashboards';
import type { DatasetRepository } from '#control/datasets';
import type { EmbedRepository } from '#control/embeds';
import type { RevocationRepository } from '#control/revocations';
import type { RlsRepository } from '#control/rls';
import type { SessionRepository } from '#control/sessions';
import type { DataTableRef } from '#datasets/batch-write';
import { type WidgetResult, runDashboardQuery } from '#datasets/dashboard-query';
import type { Caller } from '#shared/identity';
import type { ParamValue } from '#token/param-types';
import { resolveParameters } from '#token/params';
import { loadEmbedTarget, splitByMode, visibleWidgets } from './resources.ts';

export interface EmbedQueryDeps {
  readonly embeds: EmbedRepository;
  readonly dashboards: DashboardRepository;
  readonly datasets: DatasetRepository;
  readonly rls: RlsRepository;
  readonly sessions: SessionRepository;
  readonly revocations: RevocationRepository;
  readonly audit: AuditRepository;
  /** The data table as the caller's tenant: credentials scoped by IAM to that tenant's keys. */
  readonly dataFor: (tenantId: string) => DataTableRef;
  /** How embed targets are loaded (a short-lived cache in the handler); uncached by default. */
  readonly loadTarget?: typeof loadEmbedTarget;
}

export interface EmbedQueryRequest {
  readonly sessionId: string;
  readonly embedId: string;
  /** The viewer's editable values; omitted → the session's current state. */
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface EmbedQueryResult {
  readonly widgets: Record<string, WidgetResult>;
  /** The effective editable values the data was computed with. */
  readonly parameters: Record<string, ParamValue>;
}

/**
 * One call, all widgets: the data of every widget of the session's embed for the given editable
 * values. The session must be live and the caller's own; revocations are checked on every call
 * so a revoked user or embed stops seeing data at once, not when the session expires. Locked
 * values come only from the session (i.e. the signed token); RLS is applied by the compiler.
 */
export async function queryEmbedDashboard(
  deps: EmbedQueryDeps,
  caller: Caller,
  request: EmbedQueryRequest,
): Promise<EmbedQueryResult> {
  const owner = { tenantId: caller.tenantId, sub: caller.sub, embedId: request.embedId };
  // Independent reads run together: the session (ownership), and the embed with its dashboard.
  const [session, target] = await Promise.all([
    deps.sessions.get(request.sessionId, owner),
    (deps.loadTarget ?? loadEmbedTarget)(deps, caller.tenantId, request.embedId),
  ]);
  const parameters = resolveParameters({
    definitions: target.dashboard.parameters,
    modes: target.embed.parameterModes,
    tokenParams: session.lockedParams,
    requestParams: request.params ?? session.editableParams,
  });
  const { locked, editable } = splitByMode(target.embed, parameters);

  // The revocation check runs beside the data read; no row leaves this function unless it passed.
  const widgetIds = visibleWidgets(target).map((widget) => widget.id);
  const [revocation, result] = await Promise.all([
    deps.revocations.isRevoked({
      tenantId: session.tenantId,
      jti: session.jti,
      sub: session.sub,
      eid: session.embedId,
      iat: session.tokenIssuedAt,
    }),
    runDashboardQuery(
      { caller, lockedParams: locked, parameters, dashboard: target.dashboard, widgetIds },
      { datasets: deps.datasets, rls: deps.rls, data: deps.dataFor(caller.tenantId) },
    ),
  ]);
  if (revocation.revoked) throw new EmbedTokenRevoked();
  const { widgets } = result;

  const stateChanged = request.params !== undefined && canonical(editable) !== canonical(session.editableParams);
  await Promise.all([
    stateChanged ? deps.sessions.updateEditableParams(request.sessionId, owner, editable) : undefined,
    deps.audit.append({
      tenantId: caller.tenantId,
      sub: caller.sub,
      action: 'embed.query',
      embedId: session.embedId,
      outcome: 'allowed',
      reason: 'OK',
    }),
  ]);
  return { widgets, parameters: editable };
}

/** Order-independent JSON of a parameter set, to tell whether the viewer's state changed. */
function canonical(values: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    Object.keys(values)
      .sort()
      .map((key) => [key, values[key]]),
  );
}
