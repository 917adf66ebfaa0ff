import { EmbedTokenRevoked } from '#errors';
import type { AuditRepository } from '#control/audit';
import type { DashboardRepository } from '#control/dashboards';
import type { DatasetRepository } from '#control/datasets';
import type { EmbedRepository } from '#control/embeds';
import type { RevocationRepository } from '#control/revocations';
import type { RlsRepository } from '#control/rls';
import type { SessionRepository } from '#control/sessions';
import type { TableGateway } from '#control/table-gateway';
import { type PrefetchedReads, type WidgetResult, runDashboardQuery } from '#datasets/dashboard-query';
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
  readonly dataFor: (tenantId: string) => TableGateway;
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
  // Round one: the session (ownership) beside the embed definition (usually cached).
  const sessionRead = deps.sessions.get(request.sessionId, owner);
  const targetRead = (deps.loadTarget ?? loadEmbedTarget)(deps, caller.tenantId, request.embedId);
  // Without a live session of its own the caller learns nothing else, not even whether the embed exists.
  const [sessionOutcome, targetOutcome] = await Promise.allSettled([sessionRead, targetRead]);
  if (sessionOutcome.status === 'rejected') throw sessionOutcome.reason;
  if (targetOutcome.status === 'rejected') throw targetOutcome.reason;
  const session = sessionOutcome.value;
  const target = targetOutcome.value;
  const widgetIds = visibleWidgets(target).map((widget) => widget.id);
  const datasetIds = [
    ...new Set(target.dashboard.widgets.filter((w) => widgetIds.includes(w.id)).map((w) => w.datasetId)),
  ];
  const prefetched = prefetchDatasetReads(deps, caller.tenantId, datasetIds);

  const parameters = resolveParameters({
    definitions: target.dashboard.parameters,
    modes: target.embed.parameterModes,
    tokenParams: session.lockedParams,
    requestParams: request.params ?? session.editableParams,
  });
  const { locked, editable } = splitByMode(target.embed, parameters);

  // Round two: the revocation check beside the data read; no row leaves this function unless it
  // passed. The access is audited as soon as it is known to be allowed, off the critical path.
  const revocationCheck = deps.revocations.isRevoked({
    tenantId: session.tenantId,
    jti: session.jti,
    sub: session.sub,
    eid: session.embedId,
    iat: session.tokenIssuedAt,
  });
  const audited = revocationCheck.then((revocation) =>
    revocation.revoked
      ? undefined
      : deps.audit.append({
          tenantId: caller.tenantId,
          sub: caller.sub,
          action: 'embed.query',
          embedId: session.embedId,
          outcome: 'allowed',
          reason: 'OK',
        }),
  );
  audited.catch(() => undefined);
  // The viewer's new editable state is valid (the policy accepted it) whatever the query returns:
  // once the revocation check passed, store it beside the data read rather than after it.
  const stateChanged = request.params !== undefined && canonical(editable) !== canonical(session.editableParams);
  const stateStored = revocationCheck.then((revocation) =>
    stateChanged && !revocation.revoked
      ? deps.sessions.updateEditableParams(request.sessionId, owner, editable)
      : undefined,
  );
  stateStored.catch(() => undefined);
  const [revocation, result] = await Promise.all([
    revocationCheck,
    runDashboardQuery(
      { caller, lockedParams: locked, parameters, dashboard: target.dashboard, widgetIds },
      { datasets: deps.datasets, rls: deps.rls, data: deps.dataFor(caller.tenantId) },
      prefetched,
    ),
  ]);
  if (revocation.revoked) throw new EmbedTokenRevoked();
  const { widgets } = result;

  await Promise.all([audited, stateStored]);
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

/**
 * Starts the first read of each dataset item and of its RLS rules now, beside the session check:
 * the same reads the engine would make, one round trip earlier, handed to it as data.
 */
function prefetchDatasetReads(
  deps: Pick<EmbedQueryDeps, 'datasets' | 'rls'>,
  tenantId: string,
  datasetIds: readonly string[],
): PrefetchedReads {
  const datasets = new Map(datasetIds.map((id) => [id, deps.datasets.require(tenantId, id)]));
  const rules = new Map(datasetIds.map((id) => [id, deps.rls.getRules(tenantId, id)]));
  // A read nobody awaits (the session check failed first) must not become an unhandled rejection.
  for (const read of [...datasets.values(), ...rules.values()]) read.catch(() => undefined);
  return { datasets, rules };
}
