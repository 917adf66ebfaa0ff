import { Conflict, NotFound, ValidationFailed } from '#errors';
import type { DashboardRepository } from '#control/dashboards';
import type { Embed, EmbedRepository, EmbedResource } from '#control/embeds';
import { assertResourceId, assertTenantId } from '#control/keys';
import type { ParameterMode } from '#token/param-types';
import { DEFAULT_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS } from '#token/format';

/** Most origins one embed may list in its `frame-ancestors`. */
export const MAX_ALLOWED_ORIGINS = 20;

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
  return deps.embeds.save(
    validateEmbed({
      tenantId,
      embedId: input.embedId,
      resource: input.resource,
      parameterModes: input.parameterModes ?? {},
      allowedOrigins: input.allowedOrigins,
      maxTokenLifetimeSeconds: input.maxTokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
      enabled: input.enabled ?? true,
    }),
  );
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
  return deps.embeds.save(validateEmbed(next));
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

/** Validates an untrusted embed definition; returns a normalised copy. */
export function validateEmbed(input: Omit<Embed, 'updatedAt'>): Omit<Embed, 'updatedAt'> {
  const tenantId = assertTenantId(input.tenantId);
  const embedId = assertResourceId(input.embedId, 'embedId');
  const resource = input.resource as EmbedResource | undefined;
  let validResource: EmbedResource;
  if (resource?.type === 'dashboard') {
    validResource = { type: 'dashboard', id: assertResourceId(resource.id, 'resource.id') };
  } else if (resource?.type === 'chart') {
    validResource = {
      type: 'chart',
      id: assertResourceId(resource.id, 'resource.id'),
      dashboardId: assertResourceId(resource.dashboardId, 'resource.dashboardId'),
    };
  } else {
    throw new ValidationFailed('resource', 'must be { type: "dashboard" | "chart", id }');
  }
  const modes: Record<string, ParameterMode> = {};
  for (const [name, mode] of Object.entries(input.parameterModes ?? {})) {
    assertResourceId(name, 'parameterModes');
    if (mode !== 'locked' && mode !== 'editable' && mode !== 'disabled') {
      throw new ValidationFailed(`parameterModes.${name}`, 'must be locked, editable or disabled');
    }
    modes[name] = mode;
  }
  if (!Array.isArray(input.allowedOrigins) || input.allowedOrigins.length > MAX_ALLOWED_ORIGINS) {
    throw new ValidationFailed('allowedOrigins', `must be a list of at most ${MAX_ALLOWED_ORIGINS} origins`);
  }
  const allowedOrigins = input.allowedOrigins.map((origin) => {
    if (!isOrigin(origin))
      throw new ValidationFailed('allowedOrigins', 'must hold exact origins such as https://app.example.com');
    return origin;
  });
  const lifetime = input.maxTokenLifetimeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new ValidationFailed('maxTokenLifetimeSeconds', `must be an integer from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`);
  }
  if (typeof input.enabled !== 'boolean') throw new ValidationFailed('enabled', 'must be a boolean');
  return {
    tenantId,
    embedId,
    resource: validResource,
    parameterModes: modes,
    allowedOrigins,
    maxTokenLifetimeSeconds: lifetime,
    enabled: input.enabled,
  };
}

/** An exact origin: scheme + host (+ port), nothing else; plain http only for localhost. */
function isOrigin(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 255) return false;
  try {
    const url = new URL(value);
    if (url.origin !== value) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname));
  } catch {
    return false;
  }
}
