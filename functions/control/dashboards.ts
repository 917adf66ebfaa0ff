import type { Clock } from './dynamo.ts';
import { dashboardSk, tenantPk } from './keys.ts';
import type { ParameterDefinition, Widget } from './records.ts';
import type { Item, TableGateway } from './table-gateway.ts';

/** A dashboard: its parameter declarations and its widgets (each a query over one dataset). */
export interface Dashboard {
  readonly tenantId: string;
  readonly dashboardId: string;
  readonly title: string;
  readonly parameters: readonly ParameterDefinition[];
  readonly widgets: readonly Widget[];
  readonly updatedAt: string;
}

/** Dashboards (`TENANT#<t>` / `DASHBOARD#<id>`). */
export class DashboardRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Creates or replaces a dashboard (validated by the caller, see `admin/dashboards.ts`). */
  async save(input: Omit<Dashboard, 'updatedAt'>): Promise<Dashboard> {
    const dashboard: Dashboard = { ...input, updatedAt: new Date(this.now()).toISOString() };
    await this.table.put({
      Item: {
        pk: tenantPk(dashboard.tenantId),
        sk: dashboardSk(dashboard.dashboardId),
        kind: 'dashboard',
        ...dashboard,
      },
    });
    return dashboard;
  }

  /** The dashboard, or undefined. */
  async get(tenantId: string, dashboardId: string): Promise<Dashboard | undefined> {
    const item = await this.table.get({ Key: { pk: tenantPk(tenantId), sk: dashboardSk(dashboardId) } });
    return item ? toDashboard(item) : undefined;
  }

  /** Every dashboard of a tenant. */
  async list(tenantId: string): Promise<Dashboard[]> {
    const items = await this.table.queryAllByPrefix(tenantPk(tenantId), 'DASHBOARD#');
    return items.map(toDashboard);
  }

  /** Deletes a dashboard (idempotent). */
  async delete(tenantId: string, dashboardId: string): Promise<void> {
    await this.table.delete({ Key: { pk: tenantPk(tenantId), sk: dashboardSk(dashboardId) } });
  }
}

function toDashboard(item: Item): Dashboard {
  return {
    tenantId: item.tenantId as string,
    dashboardId: item.dashboardId as string,
    title: item.title as string,
    parameters: (item.parameters as ParameterDefinition[] | undefined) ?? [],
    widgets: (item.widgets as Widget[] | undefined) ?? [],
    updatedAt: item.updatedAt as string,
  };
}
