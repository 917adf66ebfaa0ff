import { NotFound } from '#errors';
import type { Clock } from './dynamo.ts';
import { embedSk, tenantPk } from './keys.ts';
import type { ParameterMode } from './records.ts';
import type { Item, TableGateway } from './table-gateway.ts';

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
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Creates or replaces an embed (validated by the caller, see `admin/embeds.ts`). */
  async save(input: Omit<Embed, 'updatedAt'>): Promise<Embed> {
    const embed: Embed = { ...input, updatedAt: new Date(this.now()).toISOString() };
    await this.table.put({
      Item: { pk: tenantPk(embed.tenantId), sk: embedSk(embed.embedId), kind: 'embed', ...embed },
    });
    return embed;
  }

  /** The embed, or undefined. */
  async get(tenantId: string, embedId: string): Promise<Embed | undefined> {
    const item = await this.table.get({ Key: { pk: tenantPk(tenantId), sk: embedSk(embedId) } });
    return item ? toEmbed(item) : undefined;
  }

  /** Every embed of a tenant. */
  async list(tenantId: string): Promise<Embed[]> {
    const items = await this.table.queryAllByPrefix(tenantPk(tenantId), 'EMBED#');
    return items.map(toEmbed);
  }

  /** Enables or disables an existing embed (`NotFound` when it does not exist). */
  async setEnabled(tenantId: string, embedId: string, enabled: boolean): Promise<void> {
    await this.table.update(
      {
        Key: { pk: tenantPk(tenantId), sk: embedSk(embedId) },
        UpdateExpression: 'SET enabled = :enabled, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':enabled': enabled, ':at': new Date(this.now()).toISOString() },
      },
      () => new NotFound('embed'),
    );
  }
}

function toEmbed(item: Item): Embed {
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
