import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound, ValidationFailed } from '#errors';
import type { ParameterMode } from '#token/param-types';
import { type Clock, isConditionalCheckFailed, type TableRef } from './dynamo.ts';
import { queryAllByPrefix } from './dynamo.ts';
import { assertResourceId, assertTenantId, embedSk, tenantPk } from './keys.ts';

/** Hard cap of an embed token's lifetime, whatever an embed allows. */
export const MAX_TOKEN_LIFETIME_SECONDS = 600;
export const MAX_ALLOWED_ORIGINS = 20;

/** What an embed shows: a whole dashboard, or one chart (widget) of a dashboard. */
export type EmbedResource =
  | { readonly type: 'dashboard'; readonly id: string }
  | { readonly type: 'chart'; readonly id: string; readonly dashboardId: string };

export interface Embed {
  readonly tenantId: string;
  readonly embedId: string;
  readonly resource: EmbedResource;
  /** Mode per dashboard parameter; a parameter not listed is `disabled`. */
  readonly parameterModes: Readonly<Record<string, ParameterMode>>;
  /** Exact origins (`https://host[:port]`) allowed to frame the embed. */
  readonly allowedOrigins: readonly string[];
  readonly maxTokenLifetimeSeconds: number;
  readonly enabled: boolean;
  readonly updatedAt: string;
}

/** Embeds (`TENANT#<t>` / `EMBED#<id>`). */
export class EmbedRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableRef,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Creates or replaces an embed after validating every field (`ValidationFailed`). */
  async save(input: Omit<Embed, 'updatedAt'>): Promise<Embed> {
    const embed: Embed = { ...validateEmbed(input), updatedAt: new Date(this.now()).toISOString() };
    await this.table.client.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { pk: tenantPk(embed.tenantId), sk: embedSk(embed.embedId), kind: 'embed', ...embed },
      }),
    );
    return embed;
  }

  /** The embed, or undefined. */
  async get(tenantId: string, embedId: string): Promise<Embed | undefined> {
    const result = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: { pk: tenantPk(tenantId), sk: embedSk(embedId) } }),
    );
    return result.Item ? toEmbed(result.Item) : undefined;
  }

  /** Every embed of a tenant. */
  async list(tenantId: string): Promise<Embed[]> {
    const items = await queryAllByPrefix(this.table, tenantPk(tenantId), 'EMBED#');
    return items.map(toEmbed);
  }

  /** Enables or disables an existing embed (`NotFound` when it does not exist). */
  async setEnabled(tenantId: string, embedId: string, enabled: boolean): Promise<void> {
    try {
      await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: tenantPk(tenantId), sk: embedSk(embedId) },
          UpdateExpression: 'SET enabled = :enabled, updatedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':enabled': enabled, ':at': new Date(this.now()).toISOString() },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFound('embed');
      throw error;
    }
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

function toEmbed(item: Record<string, unknown>): Embed {
  return {
    tenantId: item.tenantId as string,
    embedId: item.embedId as string,
    resource: item.resource as EmbedResource,
    parameterModes: (item.parameterModes as Record<string, ParameterMode> | undefined) ?? {},
    allowedOrigins: (item.allowedOrigins as string[] | undefined) ?? [],
    maxTokenLifetimeSeconds: item.maxTokenLifetimeSeconds as number,
    enabled: item.enabled === true,
    updatedAt: item.updatedAt as string,
  };
}
