import { ValidationFailed } from '#errors';
import type { DatasetRepository } from '#control/datasets';
import type { StoredRollup } from '#control/records';
import type { TableGateway } from '#control/table-gateway';
import { cleanupRetiredVersions } from '#datasets/import';
import { buildRollupForActiveVersion } from '#datasets/rollup-build';
import { MAX_ROLLUPS, validateRollupDefinition } from '#datasets/rollups';

export interface RollupAdminDeps {
  readonly datasets: DatasetRepository;
  /** The data table as the tenant (the tenant-scoped writer role). */
  readonly data: TableGateway;
}

/** A rollup as the admin API shows it: the declaration and whether it serves the active version. */
export interface RollupView {
  readonly id: string;
  readonly dimensions: StoredRollup['dimensions'];
  readonly time?: StoredRollup['time'];
  readonly measures: StoredRollup['measures'];
  /** True when its items are built for the dataset's active version (the planner may use it). */
  readonly ready: boolean;
  readonly items?: number;
}

/** The declared rollups of a dataset; `NOT_FOUND` when the tenant has no such dataset. */
export async function listRollups(
  deps: Pick<RollupAdminDeps, 'datasets'>,
  tenantId: string,
  datasetId: string,
): Promise<RollupView[]> {
  const dataset = await deps.datasets.require(tenantId, datasetId);
  return dataset.rollups.map((rollup) => rollupView(rollup, dataset.activeVersion));
}

/**
 * Declares (or redeclares) a rollup after validating it against the dataset's schema
 * (`DATASET_SCHEMA_INVALID`), then builds it for the active version from its rows. Readers keep
 * answering from rows until the build is attached; later imports build it with every version.
 */
export async function declareRollup(
  deps: RollupAdminDeps,
  tenantId: string,
  datasetId: string,
  input: unknown,
): Promise<RollupView> {
  const dataset = await deps.datasets.require(tenantId, datasetId, { consistent: true });
  const definition = validateRollupDefinition(input, dataset.schema);
  if (dataset.rollups.filter((rollup) => rollup.id !== definition.id).length >= MAX_ROLLUPS) {
    throw new ValidationFailed('rollupId', `a dataset has at most ${MAX_ROLLUPS} rollups`);
  }
  const { replaced } = await deps.datasets.putRollup(tenantId, datasetId, definition);
  await buildRollupForActiveVersion({ tenantId, datasetId, rollupId: definition.id }, deps);
  if (replaced?.build) await cleanupRetiredVersions(tenantId, datasetId, deps);
  const after = await deps.datasets.require(tenantId, datasetId, { consistent: true });
  const stored = after.rollups.find((rollup) => rollup.id === definition.id);
  return stored ? rollupView(stored, after.activeVersion) : { ...definition, ready: false };
}

/** Drops a rollup: readers stop using it at once, then its items are deleted. `NOT_FOUND` when absent. */
export async function dropRollup(
  deps: RollupAdminDeps,
  tenantId: string,
  datasetId: string,
  rollupId: string,
): Promise<void> {
  await deps.datasets.require(tenantId, datasetId);
  await deps.datasets.removeRollup(tenantId, datasetId, rollupId);
  await cleanupRetiredVersions(tenantId, datasetId, deps);
}

function rollupView(rollup: StoredRollup, activeVersion: string | null): RollupView {
  const ready = activeVersion !== null && rollup.build?.version === activeVersion;
  return {
    id: rollup.id,
    dimensions: rollup.dimensions,
    ...(rollup.time ? { time: rollup.time } : {}),
    measures: rollup.measures,
    ready,
    ...(ready ? { items: rollup.build!.itemCount } : {}),
  };
}
