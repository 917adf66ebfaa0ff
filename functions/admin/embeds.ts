import { Conflict, NotFound } from '#errors';
import type { DashboardRepository } from '#control/dashboards';
import type { Embed, EmbedRepository, EmbedResource } from '#control/embeds';
import type { ParameterMode } from '#token/param-types';
import { DEFAULT_TOKEN_LIFETIME_SECONDS } from '#token/format';

export interface EmbedAdminDeps {
  readonly embeds: EmbedRepository;
  readonly dashboards: DashboardRepository;
}

export interface NewEmbed {
  readonly embedId: string;
  readonly resource: EmbedResource;
  readonly parameterModes?: Readonly<Record<string, ParameterMode>>;
  readonly allowedOrigins: readonly string[];
  readonly maxTokenLifetimeSeconds?: number;
  readonly enabled?: boolean;
}

export type EmbedChanges = Partial<
  Pick<Embed, 'parameterModes' | 'allowedOrigins' | 'maxTokenLifetimeSeconds' | 'enabled'>
>;

/** Creates an embed of an existing dashboard (or chart of it); every parameter not listed stays disabled. */
export async function createEmbed(deps: EmbedAdminDeps, tenantId: string, input: NewEmbed): Promise<Embed> {
  if (await deps.embeds.get(tenantId, input.embedId)) throw new Conflict('The embed already exists.');
  await requireResource(deps, tenantId, input.resource, input.parameterModes ?? {});
  return deps.embeds.save({
    tenantId,
    embedId: input.embedId,
    resource: input.resource,
    parameterModes: input.parameterModes ?? {},
    allowedOrigins: input.allowedOrigins,
    maxTokenLifetimeSeconds: input.maxTokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
    enabled: input.enabled ?? true,
  });
}

/** Changes an embed's parameter modes, allowed origins, maximum token lifetime or enabled flag. */
export async function updateEmbed(
  deps: EmbedAdminDeps,
  tenantId: string,
  embedId: string,
  changes: EmbedChanges,
): Promise<Embed> {
  const current = await deps.embeds.get(tenantId, embedId);
  if (!current) throw new NotFound('embed');
  const next = { ...current, ...changes };
  if (changes.parameterModes) await requireResource(deps, tenantId, current.resource, changes.parameterModes);
  return deps.embeds.save(next);
}

/** The embedded dashboard (and chart) must exist, and every mode must name one of its parameters. */
async function requireResource(
  deps: EmbedAdminDeps,
  tenantId: string,
  resource: EmbedResource,
  modes: Readonly<Record<string, ParameterMode>>,
): Promise<void> {
  const dashboardId = resource.type === 'dashboard' ? resource.id : resource.dashboardId;
  const dashboard = await deps.dashboards.get(tenantId, dashboardId);
  if (!dashboard) throw new NotFound('dashboard');
  if (resource.type === 'chart' && !dashboard.widgets.some((w) => w.id === resource.id)) throw new NotFound('chart');
  const declared = new Set(dashboard.parameters.map((p) => p.name));
  for (const name of Object.keys(modes)) {
    if (!declared.has(name)) throw new NotFound(`parameter "${name}"`);
  }
}
