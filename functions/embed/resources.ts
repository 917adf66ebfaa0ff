import { EmbedDisabled, NotFound } from '#errors';
import type { Dashboard, DashboardRepository } from '#control/dashboards';
import type { Embed, EmbedRepository } from '#control/embeds';
import type { ParameterDefinition, ParameterMode, ParamValue } from '#token/param-types';

/** The embed and the dashboard it shows, both of the caller's tenant. */
export interface EmbedTarget {
  readonly embed: Embed;
  readonly dashboard: Dashboard;
}

/**
 * Loads an enabled embed and its dashboard within one tenant. A missing embed, or one of another
 * tenant, is NOT_FOUND (indistinguishable); a disabled one is EMBED_DISABLED.
 */
export async function loadEmbedTarget(
  deps: { readonly embeds: EmbedRepository; readonly dashboards: DashboardRepository },
  tenantId: string,
  embedId: string,
): Promise<EmbedTarget> {
  const embed = await deps.embeds.get(tenantId, embedId);
  if (!embed) throw new NotFound('embed');
  if (!embed.enabled) throw new EmbedDisabled();
  const dashboardId = embed.resource.type === 'dashboard' ? embed.resource.id : embed.resource.dashboardId;
  const dashboard = await deps.dashboards.get(tenantId, dashboardId);
  if (!dashboard) throw new NotFound('dashboard');
  return { embed, dashboard };
}

/**
 * A per-container cache of embed targets for the query path, which runs on every filter change.
 * Only enabled targets are cached, for a few seconds: an embed disabled or a dashboard changed by
 * an admin takes effect within `ttlMs`. Revocations are never cached (checked on every query).
 */
export function createEmbedTargetCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, { target: EmbedTarget; expiresAt: number }>();
  return async (
    deps: { readonly embeds: EmbedRepository; readonly dashboards: DashboardRepository },
    tenantId: string,
    embedId: string,
  ): Promise<EmbedTarget> => {
    const key = `${tenantId}#${embedId}`;
    const hit = entries.get(key);
    if (hit && hit.expiresAt > now()) return hit.target;
    const target = await loadEmbedTarget(deps, tenantId, embedId);
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    entries.set(key, { target, expiresAt: now() + options.ttlMs });
    return target;
  };
}

/** The widgets an embed shows: the whole dashboard, or the one chart it names. */
export function visibleWidgets(target: EmbedTarget): Dashboard['widgets'] {
  const { embed, dashboard } = target;
  if (embed.resource.type === 'dashboard') return dashboard.widgets;
  const chartId = embed.resource.id;
  const widget = dashboard.widgets.find((w) => w.id === chartId);
  if (!widget) throw new NotFound('chart');
  return [widget];
}

/** The parameter mode of each declared parameter (undeclared modes are ignored; missing ones are disabled). */
export function modeOf(embed: Embed, name: string): ParameterMode {
  return embed.parameterModes[name] ?? 'disabled';
}

/** Splits an effective parameter set into the locked part and the editable part. */
export function splitByMode(
  embed: Embed,
  values: Readonly<Record<string, ParamValue>>,
): { locked: Record<string, ParamValue>; editable: Record<string, ParamValue> } {
  const locked: Record<string, ParamValue> = {};
  const editable: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(values)) {
    if (modeOf(embed, name) === 'locked') locked[name] = value;
    else if (modeOf(embed, name) === 'editable') editable[name] = value;
  }
  return { locked, editable };
}

/** What the viewer is told about the dashboard: titles and widget kinds, never queries or RLS. */
export interface DashboardView {
  readonly id: string;
  readonly title: string;
  readonly widgets: ReadonlyArray<{ readonly id: string; readonly type: string; readonly title: string }>;
}

/** An editable parameter as the viewer's controls need it. */
export interface EditableParameterView {
  readonly name: string;
  readonly type: ParameterDefinition['type'];
  readonly label: string;
  readonly allowedValues?: readonly (string | number)[];
  readonly min?: number | string;
  readonly max?: number | string;
  readonly value: ParamValue | null;
}

/** The public projection of the embed's dashboard. */
export function dashboardView(target: EmbedTarget): DashboardView {
  return {
    id: target.dashboard.dashboardId,
    title: target.dashboard.title,
    widgets: visibleWidgets(target).map((w) => ({ id: w.id, type: w.type, title: w.title })),
  };
}

/** The editable parameters with their current values. */
export function editableParameterViews(
  target: EmbedTarget,
  values: Readonly<Record<string, ParamValue>>,
): EditableParameterView[] {
  return target.dashboard.parameters
    .filter((definition) => modeOf(target.embed, definition.name) === 'editable')
    .map((definition) => ({
      name: definition.name,
      type: definition.type,
      label: definition.label ?? definition.name,
      ...(definition.allowedValues ? { allowedValues: definition.allowedValues } : {}),
      ...(definition.min !== undefined ? { min: definition.min } : {}),
      ...(definition.max !== undefined ? { max: definition.max } : {}),
      value: values[definition.name] ?? null,
    }));
}
