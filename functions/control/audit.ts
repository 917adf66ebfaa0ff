import { randomBytes } from 'node:crypto';
import { ValidationFailed } from '#errors';
import { type Clock, decodeCursor, encodeCursor, epochSeconds } from './dynamo.ts';
import { assertResourceId, assertTenantId, auditPk } from './keys.ts';
import type { TableGateway } from './table-gateway.ts';

/**
 * Audit events (`AUDIT#<t>` / `<ISO time>#<random>`), newest first, expiring by TTL. An event
 * records who did what and the outcome — never a token: every field is a short identifier or
 * a code, checked by pattern, so a token cannot be smuggled in through a free-text field.
 */
export interface AuditEvent {
  readonly tenantId: string;
  /** The actor's `sub`. */
  readonly sub: string;
  /** e.g. `embed-token.issue`, `embed-session.create`, `dataset.import`. */
  readonly action: string;
  readonly embedId?: string;
  readonly outcome: 'allowed' | 'denied';
  /** An error code or a short reason code, e.g. `EMBED_TOKEN_EXPIRED`, `OK`. */
  readonly reason: string;
  /** ISO time. */
  readonly at: string;
}

export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
const ACTION_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;
const REASON_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Appends and lists audit events. */
export class AuditRepository {
  private readonly now: Clock;
  private readonly retentionDays: number;
  constructor(
    private readonly table: TableGateway,
    options: { clock?: Clock; retentionDays?: number } = {},
  ) {
    this.now = options.clock ?? Date.now;
    this.retentionDays = options.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  }

  /** Appends one event (TTL = now + retention). Throws `ValidationFailed` for a malformed field. */
  async append(input: Omit<AuditEvent, 'at'> & { at?: string }): Promise<AuditEvent> {
    const nowMs = this.now();
    const event: AuditEvent = {
      tenantId: assertTenantId(input.tenantId),
      sub: assertResourceId(input.sub, 'sub'),
      action: matching(input.action, ACTION_PATTERN, 'action'),
      ...(input.embedId !== undefined ? { embedId: assertResourceId(input.embedId, 'embedId') } : {}),
      outcome: input.outcome === 'allowed' || input.outcome === 'denied' ? input.outcome : invalid('outcome'),
      reason: matching(input.reason, REASON_PATTERN, 'reason'),
      at: input.at !== undefined ? isoTime(input.at) : new Date(nowMs).toISOString(),
    };
    await this.table.put({
      Item: {
        pk: auditPk(event.tenantId),
        sk: `${event.at}#${randomBytes(6).toString('hex')}`,
        kind: 'audit',
        ...event,
        ttl: epochSeconds(nowMs) + this.retentionDays * 86_400,
      },
    });
    return event;
  }

  /** One page of a tenant's events, newest first; pass the returned cursor for the next page. */
  async list(
    tenantId: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ events: AuditEvent[]; cursor?: string }> {
    const pk = auditPk(tenantId);
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new ValidationFailed('limit', 'must be from 1 to 500');
    const result = await this.table.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ScanIndexForward: false,
      Limit: limit,
      ...(options.cursor ? { ExclusiveStartKey: decodeCursor(options.cursor, pk) } : {}),
    });
    const events = (result.Items ?? []).map(
      (item): AuditEvent => ({
        tenantId: item.tenantId as string,
        sub: item.sub as string,
        action: item.action as string,
        ...(item.embedId ? { embedId: item.embedId as string } : {}),
        outcome: item.outcome as AuditEvent['outcome'],
        reason: item.reason as string,
        at: item.at as string,
      }),
    );
    const cursor = encodeCursor(result.LastEvaluatedKey);
    return { events, ...(cursor ? { cursor } : {}) };
  }
}

function matching(value: unknown, pattern: RegExp, field: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) return invalid(field);
  return value;
}

function isoTime(value: string): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return invalid('at');
  return new Date(ms).toISOString();
}

function invalid(field: string): never {
  throw new ValidationFailed(field, 'is invalid');
}
