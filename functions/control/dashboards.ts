import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { QueryInvalid, ValidationFailed } from '#errors';
import type { ParameterDefinition } from '#token/param-types';
import { validateWidget, type Widget } from '#datasets/widget';
import type { DatasetRepository } from './datasets.ts';
import type { Clock, TableRef } from './dynamo.ts';
import { queryAllByPrefix } from './dynamo.ts';
import { assertResourceId, assertTenantId, dashboardSk, tenantPk } from './keys.ts';

/** A dashboard: its parameter declarations and its widgets (each a query over one dataset). */
export interface Dashboard {
  readonly tenantId: string;
  readonly dashboardId: string;
  readonly title: string;
  readonly parameters: readonly ParameterDefinition[];
  readonly widgets: readonly Widget[];
  readonly updatedAt: string;
}

export const MAX_WIDGETS = 50;
export const MAX_PARAMETERS = 30;
const PARAMETER_TYPES = new Set(['string', 'number', 'boolean', 'date', 'dateRange', 'stringList']);

/** Dashboards (`TENANT#<t>` / `DASHBOARD#<id>`). Widgets are validated against their datasets' schemas on save. */
export class DashboardRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableRef,
    private readonly datasets: DatasetRepository,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /**
   * Creates or replaces a dashboard after validating every widget against its dataset schema
   * and the declared parameters (`QueryInvalid`, `NotFound` for a missing dataset).
   */
  async save(input: {
    tenantId: string;
    dashboardId: string;
    title: string;
    parameters?: readonly ParameterDefinition[];
    widgets: readonly unknown[];
  }): Promise<Dashboard> {
    const tenantId = assertTenantId(input.tenantId);
    const dashboardId = assertResourceId(input.dashboardId, 'dashboardId');
    if (typeof input.title !== 'string' || input.title.length === 0 || input.title.length > 200) {
      throw new ValidationFailed('title', 'must be 1 to 200 characters');
    }
    const parameters = validateParameters(input.parameters ?? []);
    if (!Array.isArray(input.widgets) || input.widgets.length > MAX_WIDGETS) {
      throw new ValidationFailed('widgets', `must be a list of at most ${MAX_WIDGETS}`);
    }
    const schemas = new Map<string, Awaited<ReturnType<DatasetRepository['require']>>>();
    const widgets: Widget[] = [];
    for (const raw of input.widgets) {
      const datasetId = (raw as { datasetId?: unknown } | null)?.datasetId;
      if (typeof datasetId !== 'string') throw new QueryInvalid('the widget dataset id is invalid');
      let dataset = schemas.get(datasetId);
      if (!dataset) {
        dataset = await this.datasets.require(tenantId, assertResourceId(datasetId, 'datasetId'));
        schemas.set(datasetId, dataset);
      }
      widgets.push(validateWidget(raw, dataset.schema, parameters));
    }
    if (new Set(widgets.map((w) => w.id)).size !== widgets.length) throw new QueryInvalid('duplicate widget id');
    const dashboard: Dashboard = {
      tenantId,
      dashboardId,
      title: input.title,
      parameters,
      widgets,
      updatedAt: new Date(this.now()).toISOString(),
    };
    await this.table.client.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { pk: tenantPk(tenantId), sk: dashboardSk(dashboardId), kind: 'dashboard', ...dashboard },
      }),
    );
    return dashboard;
  }

  /** The dashboard, or undefined. */
  async get(tenantId: string, dashboardId: string): Promise<Dashboard | undefined> {
    const result = await this.table.client.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: { pk: tenantPk(tenantId), sk: dashboardSk(dashboardId) },
      }),
    );
    return result.Item ? toDashboard(result.Item) : undefined;
  }

  /** Every dashboard of a tenant. */
  async list(tenantId: string): Promise<Dashboard[]> {
    const items = await queryAllByPrefix(this.table, tenantPk(tenantId), 'DASHBOARD#');
    return items.map(toDashboard);
  }

  /** Deletes a dashboard (idempotent). */
  async delete(tenantId: string, dashboardId: string): Promise<void> {
    await this.table.client.send(
      new DeleteCommand({
        TableName: this.table.tableName,
        Key: { pk: tenantPk(tenantId), sk: dashboardSk(dashboardId) },
      }),
    );
  }
}

function validateParameters(input: readonly ParameterDefinition[]): ParameterDefinition[] {
  if (!Array.isArray(input) || input.length > MAX_PARAMETERS) {
    throw new ValidationFailed('parameters', `must be a list of at most ${MAX_PARAMETERS}`);
  }
  const names = new Set<string>();
  for (const parameter of input) {
    if (typeof parameter?.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(parameter.name)) {
      throw new ValidationFailed('parameters', 'every parameter needs a name matching ^[A-Za-z0-9_-]{1,64}$');
    }
    if (!PARAMETER_TYPES.has(parameter.type))
      throw new ValidationFailed(`parameters.${parameter.name}`, 'has an unknown type');
    if (names.has(parameter.name)) throw new ValidationFailed(`parameters.${parameter.name}`, 'is declared twice');
    names.add(parameter.name);
  }
  return [...input];
}

function toDashboard(item: Record<string, unknown>): Dashboard {
  return {
    tenantId: item.tenantId as string,
    dashboardId: item.dashboardId as string,
    title: item.title as string,
    parameters: (item.parameters as ParameterDefinition[] | undefined) ?? [],
    widgets: (item.widgets as Widget[] | undefined) ?? [],
    updatedAt: item.updatedAt as string,
  };
}
