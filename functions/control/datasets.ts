import { Conflict, ImportInProgress, NotFound } from '#errors';
import type { Clock } from './dynamo.ts';
import { assertResourceId, assertTenantId, datasetSk, tenantPk } from './keys.ts';
import type { CellValue, DatasetSchema } from './records.ts';
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
    input: { partitionValues: readonly CellValue[]; lockMs: number },
  ): Promise<{ version: string; abandoned?: VersionRef }> {
    const current = await this.require(tenantId, datasetId, { consistent: true });
    const now = this.now();
    if (current.importLock && current.importLock.expiresAt >= now) throw new ImportInProgress();
    // Every acquisition bumps the counter, so "counter unchanged" also proves that the expired
    // lock seen here is the one being replaced.
    const version = `v${current.versionCounter + 1}`;
    const abandoned: VersionRef | undefined = current.importLock
      ? { version: current.importLock.version, partitionValues: current.importLock.partitionValues }
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
          ':lock': { version, partitionValues: input.partitionValues, expiresAt: now + input.lockMs },
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
    input: { version: string; partitionValues: readonly CellValue[]; rowCount: number },
  ): Promise<VersionRef | undefined> {
    const current = await this.require(tenantId, datasetId, { consistent: true });
    if (current.importLock?.version !== input.version) throw new ImportInProgress();
    const previous: VersionRef | undefined = current.activeVersion
      ? { version: current.activeVersion, partitionValues: current.partitionValues }
      : undefined;
    const at = new Date(this.now()).toISOString();
    await this.table.update(
      {
        Key: { pk: tenantPk(tenantId), sk: datasetSk(datasetId) },
        UpdateExpression: `SET activeVersion = :version, partitionValues = :partitions, rowCount = :rows, importedAt = :at, updatedAt = :at${
          previous ? ', retiredVersions = list_append(if_not_exists(retiredVersions, :empty), :previous)' : ''
        } REMOVE importLock ADD revision :one`,
        ConditionExpression: 'importLock.version = :version AND revision = :revision',
        ExpressionAttributeValues: {
          ':version': input.version,
          ':partitions': input.partitionValues,
          ':rows': input.rowCount,
          ':at': at,
          ':one': 1,
          ':revision': current.revision,
          ...(previous ? { ':empty': [], ':previous': [previous] } : {}),
        },
      },
      () => new ImportInProgress(),
    );
    return previous;
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
            ':pending': [{ version: pending.version, partitionValues: pending.partitionValues }],
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
  async forgetRetiredVersion(tenantId: string, datasetId: string, version: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.require(tenantId, datasetId, { consistent: true });
      const remaining = current.retiredVersions.filter((retired) => retired.version !== version);
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
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    revision: (item.revision as number | undefined) ?? 0,
    versionCounter: (item.versionCounter as number | undefined) ?? 0,
  };
}
