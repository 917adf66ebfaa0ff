import { Conflict, ImportInProgress, NotFound } from '#errors';
import type { Clock } from './dynamo.ts';
import { assertResourceId, assertTenantId, datasetSk, tenantPk } from './keys.ts';
import type { CellValue, DatasetSchema, RollupBuild, RollupDefinition, StoredRollup } from './records.ts';
import type { Item, TableGateway } from './table-gateway.ts';

/**
 * Datasets (`TENANT#<t>` / `DATASET#<id>`): the schema, the active data version and its set of
 * partition values, and the import bookkeeping that makes a new import appear all at once:
 * - `importLock` (with an expiry, so a crashed import cannot block the dataset forever) names
 *   the version being written and its partition values;
 * - `activeVersion` flips with one conditional update when the import is complete;
 * - `retiredVersions` lists versions whose rows still have to be deleted (the previous active
 *   version, or the leftovers of a crashed or failed import), so cleanup survives crashes.
 */

export interface VersionRef {
  readonly version: string;
  readonly partitionValues: readonly CellValue[];
  /** Partition keys of the version's rollup items, after the version prefix (`R#<id>#g<n>#…`). */
  readonly rollupPartitionKeys?: readonly string[];
  /** Only these rollup partitions are retired (a rollup dropped or redeclared), not the version's rows. */
  readonly rollupsOnly?: boolean;
}

/** A rollup written by an import (or a build), to be attached to its declaration if that is unchanged. */
export interface BuiltRollup {
  readonly id: string;
  readonly generation: number;
  readonly build: RollupBuild;
}

/** What a reader re-checks after reading: the active version and which rollups are built for it. */
export interface VersionState {
  readonly activeVersion: string | null;
  readonly rollups: readonly { readonly id: string; readonly generation: number; readonly buildVersion?: string }[];
}

export interface Dataset {
  readonly tenantId: string;
  readonly datasetId: string;
  readonly name: string;
  readonly schema: DatasetSchema;
  /** Null until the first import completes. */
  readonly activeVersion: string | null;
  readonly partitionValues: readonly CellValue[];
  readonly rowCount: number;
  readonly importedAt?: string;
  readonly importLock?: VersionRef & { readonly expiresAt: number };
  readonly retiredVersions: readonly VersionRef[];
  /** Declared rollups (validated by `admin/rollups.ts`), with the version each is built for. */
  readonly rollups: readonly StoredRollup[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Incremented by every write; optimistic-concurrency token for read-modify-write updates. */
  readonly revision: number;
  /** Number of versions ever started; the next import writes `v<versionCounter + 1>`. */
  readonly versionCounter: number;
}

/** Dataset items in the control table. */
export class DatasetRepository {
  private readonly now: Clock;
  constructor(
    private readonly table: TableGateway,
    options: { clock?: Clock } = {},
  ) {
    this.now = options.clock ?? Date.now;
  }

  /** Stores a new dataset (validated by the caller, see `admin/datasets.ts`) with no data; `Conflict` when the id is taken. */
  async create(input: { tenantId: string; datasetId: string; name: string; schema: DatasetSchema }): Promise<Dataset> {
    const tenantId = assertTenantId(input.tenantId);
    const datasetId = assertResourceId(input.datasetId, 'datasetId');
    const schema = input.schema;
    const at = new Date(this.now()).toISOString();
    const dataset: Dataset = {
      tenantId,
      datasetId,
      name: input.name,
      schema,
      activeVersion: null,
      partitionValues: [],
      rowCount: 0,
      retiredVersions: [],
      rollups: [],
      createdAt: at,
      updatedAt: at,
      revision: 0,
      versionCounter: 0,
    };
    await this.table.put(
      {
        Item: { pk: tenantPk(tenantId), sk: datasetSk(datasetId), kind: 'dataset', ...dataset },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
      () => new Conflict('The dataset already exists.'),
    );
    return dataset;
  }

  /** The dataset, or undefined. `consistent` for readers that must see the latest version switch. */
  async get(tenantId: string, datasetId: string, options: { consistent?: boolean } = {}): Promise<Dataset | undefined> {
    const item = await this.table.get({
      Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
      ConsistentRead: options.consistent ?? false,
    });
    return item ? toDataset(item) : undefined;
  }

  /** The dataset, or `NotFound`. */
  async require(tenantId: string, datasetId: string, options: { consistent?: boolean } = {}): Promise<Dataset> {
    const dataset = await this.get(tenantId, datasetId, options);
    if (!dataset) throw new NotFound('dataset');
    return dataset;
  }

  /** Only the active version, read strongly consistently (the readers' seqlock check). */
  async activeVersion(tenantId: string, datasetId: string): Promise<string | null | undefined> {
    const item = await this.table.get({
      Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
      ConsistentRead: true,
      ProjectionExpression: 'activeVersion',
    });
    if (!item) return undefined;
    return (item.activeVersion as string | null | undefined) ?? null;
  }

  /** The active version and the rollup builds, read strongly consistently (the seqlock check of readers using rollups). */
  async versionState(tenantId: string, datasetId: string): Promise<VersionState | undefined> {
    const item = await this.table.get({
      Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
      ConsistentRead: true,
      ProjectionExpression: 'activeVersion, rollups',
    });
    if (!item) return undefined;
    return {
      activeVersion: (item.activeVersion as string | null | undefined) ?? null,
      rollups: ((item.rollups as StoredRollup[] | undefined) ?? []).map((rollup) => ({
        id: rollup.id,
        generation: rollup.generation,
        ...(rollup.build ? { buildVersion: rollup.build.version } : {}),
      })),
    };
  }

  /** Every dataset of a tenant. */
  async list(tenantId: string): Promise<Dataset[]> {
    const items = await this.table.queryAllByPrefix(tenantPk(tenantId), 'DATASET#');
    return items.map(toDataset);
  }

  /**
   * Takes the import lock for a new version (the next `v<n>`), or throws `ImportInProgress`
   * while another unexpired import holds it. An expired lock is taken over; its version is
   * returned as `abandoned` so the new import can schedule its rows for deletion.
   */
  async acquireImportLock(
    tenantId: string,
    datasetId: string,
    input: { partitionValues: readonly CellValue[]; rollupPartitionKeys?: readonly string[]; lockMs: number },
  ): Promise<{ version: string; abandoned?: VersionRef }> {
    const current = await this.require(tenantId, datasetId, { consistent: true });
    const now = this.now();
    if (current.importLock && current.importLock.expiresAt >= now) throw new ImportInProgress();
    // Every acquisition bumps the counter, so "counter unchanged" also proves that the expired
    // lock seen here is the one being replaced.
    const version = `v${current.versionCounter + 1}`;
    const abandoned: VersionRef | undefined = current.importLock
      ? {
          version: current.importLock.version,
          partitionValues: current.importLock.partitionValues,
          ...(current.importLock.rollupPartitionKeys
            ? { rollupPartitionKeys: current.importLock.rollupPartitionKeys }
            : {}),
        }
      : undefined;
    await this.table.update(
      {
        Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
        UpdateExpression: `SET importLock = :lock, versionCounter = :counter, updatedAt = :at${
          abandoned ? ', retiredVersions = list_append(if_not_exists(retiredVersions, :empty), :abandoned)' : ''
        } ADD revision :one`,
        ConditionExpression:
          'versionCounter = :previousCounter AND (attribute_not_exists(importLock) OR importLock.expiresAt < :now)',
        ExpressionAttributeValues: {
          ':lock': {
            version,
            partitionValues: input.partitionValues,
            ...(input.rollupPartitionKeys?.length ? { rollupPartitionKeys: input.rollupPartitionKeys } : {}),
            expiresAt: now + input.lockMs,
          },
          ':counter': current.versionCounter + 1,
          ':previousCounter': current.versionCounter,
          ':at': new Date(now).toISOString(),
          ':now': now,
          ':one': 1,
          ...(abandoned ? { ':empty': [], ':abandoned': [abandoned] } : {}),
        },
      },
      () => new ImportInProgress(),
    );
    return { version, ...(abandoned ? { abandoned } : {}) };
  }

  /** Extends the lock of a running import; `ImportInProgress` when it was lost (expired and taken over). */
  async renewImportLock(tenantId: string, datasetId: string, version: string, lockMs: number): Promise<void> {
    await this.table.update(
      {
        Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
        UpdateExpression: 'SET importLock.expiresAt = :expires',
        ConditionExpression: 'importLock.version = :version',
        ExpressionAttributeValues: { ':expires': this.now() + lockMs, ':version': version },
      },
      () => new ImportInProgress(),
    );
  }

  /**
   * The version switch: makes `version` active in one conditional update (only while this
   * import still holds the lock), releases the lock and schedules the previous version for
   * deletion. Returns the previous version, if any.
   */
  async activateVersion(
    tenantId: string,
    datasetId: string,
    input: {
      version: string;
      partitionValues: readonly CellValue[];
      rowCount: number;
      rollups?: readonly BuiltRollup[];
    },
  ): Promise<VersionRef | undefined> {
    // A rollup declared or dropped while the import ran changes the revision: re-read and try
    // again as long as this import still holds the lock.
    for (let attempt = 0; ; attempt++) {
      const current = await this.require(tenantId, datasetId, { consistent: true });
      if (current.importLock?.version !== input.version) throw new ImportInProgress();
      const previous: VersionRef | undefined = current.activeVersion
        ? {
            version: current.activeVersion,
            partitionValues: current.partitionValues,
            rollupPartitionKeys: rollupKeysOf(current.rollups, current.activeVersion),
          }
        : undefined;
      const built = new Map((input.rollups ?? []).map((rollup) => [rollup.id, rollup]));
      const rollups = current.rollups.map((rollup): StoredRollup => {
        const build = built.get(rollup.id);
        return build && build.generation === rollup.generation ? { ...rollup, build: build.build } : rollup;
      });
      // Items written for a declaration that was dropped or replaced meanwhile: retire them now.
      const orphanKeys = (input.rollups ?? [])
        .filter((b) => !current.rollups.some((r) => r.id === b.id && r.generation === b.generation))
        .flatMap((b) => b.build.partitionKeys);
      const retired: VersionRef[] = [
        ...(previous ? [previous] : []),
        ...(orphanKeys.length > 0
          ? [{ version: input.version, partitionValues: [], rollupPartitionKeys: orphanKeys, rollupsOnly: true }]
          : []),
      ];
      const at = new Date(this.now()).toISOString();
      const raced = new Conflict('The dataset changed concurrently.');
      try {
        await this.table.update(
          {
            Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
            UpdateExpression: `SET activeVersion = :version, partitionValues = :partitions, rowCount = :rows, importedAt = :at, updatedAt = :at, rollups = :rollups${
              retired.length > 0
                ? ', retiredVersions = list_append(if_not_exists(retiredVersions, :empty), :retired)'
                : ''
            } REMOVE importLock ADD revision :one`,
            ConditionExpression: 'importLock.version = :version AND revision = :revision',
            ExpressionAttributeValues: {
              ':version': input.version,
              ':partitions': input.partitionValues,
              ':rows': input.rowCount,
              ':at': at,
              ':one': 1,
              ':revision': current.revision,
              ':rollups': rollups,
              ...(retired.length > 0 ? { ':empty': [], ':retired': retired } : {}),
            },
          },
          () => raced,
        );
        return previous;
      } catch (error) {
        if (error !== raced || attempt >= 4) throw error === raced ? new ImportInProgress() : error;
      }
    }
  }

  /**
   * Declares (or redeclares) a rollup with a new generation; returns it and the declaration it
   * replaced, whose items the caller retires. `Conflict` on a concurrent change of the dataset.
   */
  async putRollup(
    tenantId: string,
    datasetId: string,
    definition: RollupDefinition,
  ): Promise<{ rollup: StoredRollup; replaced?: StoredRollup }> {
    const current = await this.require(tenantId, datasetId, { consistent: true });
    const replaced = current.rollups.find((rollup) => rollup.id === definition.id);
    const rollup: StoredRollup = { ...definition, generation: current.revision + 1 };
    const rollups = [...current.rollups.filter((r) => r.id !== definition.id), rollup];
    const retired = replaced?.build ? [rollupRetirement(replaced)] : [];
    await this.writeRollups(tenantId, datasetId, current.revision, rollups, retired);
    return { rollup, ...(replaced ? { replaced } : {}) };
  }

  /** Removes a rollup declaration; returns it (the caller retires its items), or `NotFound`. */
  async removeRollup(tenantId: string, datasetId: string, rollupId: string): Promise<StoredRollup> {
    const current = await this.require(tenantId, datasetId, { consistent: true });
    const removed = current.rollups.find((rollup) => rollup.id === rollupId);
    if (!removed) throw new NotFound('rollup');
    const retired = removed.build ? [rollupRetirement(removed)] : [];
    await this.writeRollups(
      tenantId,
      datasetId,
      current.revision,
      current.rollups.filter((rollup) => rollup.id !== rollupId),
      retired,
    );
    return removed;
  }

  /**
   * Attaches a build to a rollup, only while the rollup still has that generation and the build's
   * version is still the active one; returns false (nothing attached) otherwise.
   */
  async attachRollupBuild(tenantId: string, datasetId: string, built: BuiltRollup): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.require(tenantId, datasetId, { consistent: true });
      const rollup = current.rollups.find((r) => r.id === built.id);
      if (!rollup || rollup.generation !== built.generation || current.activeVersion !== built.build.version) {
        return false;
      }
      const rollups = current.rollups.map((r) => (r.id === built.id ? { ...r, build: built.build } : r));
      try {
        await this.writeRollups(tenantId, datasetId, current.revision, rollups, []);
        return true;
      } catch (error) {
        if (!(error instanceof Conflict)) throw error;
      }
    }
    return false;
  }

  private async writeRollups(
    tenantId: string,
    datasetId: string,
    revision: number,
    rollups: readonly StoredRollup[],
    retired: readonly VersionRef[],
  ): Promise<void> {
    await this.table.update(
      {
        Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
        UpdateExpression: `SET rollups = :rollups, updatedAt = :at${
          retired.length > 0 ? ', retiredVersions = list_append(if_not_exists(retiredVersions, :empty), :retired)' : ''
        } ADD revision :one`,
        ConditionExpression: 'revision = :revision',
        ExpressionAttributeValues: {
          ':rollups': rollups,
          ':at': new Date(this.now()).toISOString(),
          ':revision': revision,
          ':one': 1,
          ...(retired.length > 0 ? { ':empty': [], ':retired': retired } : {}),
        },
      },
      () => new Conflict('The dataset changed concurrently; try again.'),
    );
  }

  /** Gives up a running import: releases the lock and schedules its partial rows for deletion. */
  async abandonImport(tenantId: string, datasetId: string, pending: VersionRef): Promise<void> {
    const lost = new Conflict('The import lock was taken over.');
    try {
      await this.table.update(
        {
          Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
          UpdateExpression:
            'SET retiredVersions = list_append(if_not_exists(retiredVersions, :empty), :pending) REMOVE importLock ADD revision :one',
          ConditionExpression: 'importLock.version = :version',
          ExpressionAttributeValues: {
            ':empty': [],
            ':pending': [
              {
                version: pending.version,
                partitionValues: pending.partitionValues,
                ...(pending.rollupPartitionKeys?.length ? { rollupPartitionKeys: pending.rollupPartitionKeys } : {}),
              },
            ],
            ':version': pending.version,
            ':one': 1,
          },
        },
        () => lost,
      );
    } catch (error) {
      // Someone took the expired lock over; they have scheduled this version themselves.
      if (error !== lost) throw error;
    }
  }

  /** Removes a version from `retiredVersions` once its rows are deleted (optimistic, retried on races). */
  async forgetRetiredVersion(tenantId: string, datasetId: string, entry: VersionRef): Promise<void> {
    const same = (retired: VersionRef) =>
      retired.version === entry.version &&
      (retired.rollupsOnly ?? false) === (entry.rollupsOnly ?? false) &&
      (retired.rollupPartitionKeys ?? []).join('\n') === (entry.rollupPartitionKeys ?? []).join('\n');
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.require(tenantId, datasetId, { consistent: true });
      const remaining = current.retiredVersions.filter((retired) => !same(retired));
      if (remaining.length === current.retiredVersions.length) return;
      const raced = new Conflict('The dataset changed concurrently.');
      try {
        await this.table.update(
          {
            Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
            UpdateExpression: 'SET retiredVersions = :remaining ADD revision :one',
            ConditionExpression: 'revision = :revision',
            ExpressionAttributeValues: { ':remaining': remaining, ':revision': current.revision, ':one': 1 },
          },
          () => raced,
        );
        return;
      } catch (error) {
        if (error !== raced) throw error;
      }
    }
    throw new Conflict('The dataset changed concurrently; try again.');
  }
}

function toDataset(item: Item): Dataset {
  return {
    tenantId: item.tenantId as string,
    datasetId: item.datasetId as string,
    name: item.name as string,
    // Validated on write (admin/datasets.ts); the repository stores and loads, it does not validate.
    schema: item.schema as DatasetSchema,
    activeVersion: (item.activeVersion as string | null | undefined) ?? null,
    partitionValues: (item.partitionValues as CellValue[] | undefined) ?? [],
    rowCount: (item.rowCount as number | undefined) ?? 0,
    ...(item.importedAt ? { importedAt: item.importedAt as string } : {}),
    ...(item.importLock ? { importLock: item.importLock as VersionRef & { expiresAt: number } } : {}),
    retiredVersions: (item.retiredVersions as VersionRef[] | undefined) ?? [],
    rollups: (item.rollups as StoredRollup[] | undefined) ?? [],
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    revision: (item.revision as number | undefined) ?? 0,
    versionCounter: (item.versionCounter as number | undefined) ?? 0,
  };
}

/** The rollup partition keys built for one version. */
function rollupKeysOf(rollups: readonly StoredRollup[], version: string): string[] {
  return rollups.flatMap((rollup) => (rollup.build?.version === version ? rollup.build.partitionKeys : []));
}

/** Schedules the items of one rollup build for deletion. */
function rollupRetirement(rollup: StoredRollup): VersionRef {
  return {
    version: rollup.build!.version,
    partitionValues: [],
    rollupPartitionKeys: rollup.build!.partitionKeys,
    rollupsOnly: true,
  };
}
