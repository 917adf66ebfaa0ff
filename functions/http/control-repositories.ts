import { AuditRepository } from '#control/audit';
import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { EmbedRepository } from '#control/embeds';
import { RedemptionRepository } from '#control/redemptions';
import { RevocationRepository } from '#control/revocations';
import { RlsRepository } from '#control/rls';
import { SessionRepository } from '#control/sessions';
import { documentClient } from '#shared/clients';

/**
 * The control-table repositories, created once per container. Each is cheap; only the ones a
 * handler uses are ever called, and IAM limits what each function may do with the table.
 */
export function controlRepositories(tableName: string) {
  const table = { client: documentClient(), tableName };
  const datasets = new DatasetRepository(table);
  return {
    table,
    audit: new AuditRepository(table),
    datasets,
    dashboards: new DashboardRepository(table, datasets),
    embeds: new EmbedRepository(table),
    redemptions: new RedemptionRepository(table),
    revocations: new RevocationRepository(table),
    rls: new RlsRepository(table),
    sessions: new SessionRepository(table),
  };
}
