import { NotFound } from '#errors';
import type { DatasetRepository } from '#control/datasets';
import type { TableGateway } from '#control/table-gateway';
import { batchWriteAll, deletePartitions } from './batch-write.ts';
import { buildRollupItems } from './rollups.ts';
import { dataPartitionKey, type Row, versionKeyPrefix } from './row-keys.ts';
import type { CellValue } from './values.ts';

/**
 * Building a rollup for the version that is already active (a rollup declared after the
 * import). Readers are never blocked: they keep answering from rows until the build is attached
 * to the declaration, which happens in one conditional update only if the version and the
 * declaration are unchanged; otherwise the items just written are deleted again.
 */

export interface RollupBuildOptions {
  readonly datasets: DatasetRepository;
  /** The data table, as the tenant (the tenant-scoped writer role). */
  readonly data: TableGateway;
  readonly concurrency?: number;
}

/** Builds one declared rollup from the active version's rows; returns whether it was attached (and its item count). */
export async function buildRollupForActiveVersion(
  input: { tenantId: string; datasetId: string; rollupId: string },
  options: RollupBuildOptions,
): Promise<{ attached: boolean; items: number; skipped: boolean }> {
  const dataset = await options.datasets.require(input.tenantId, input.datasetId, { consistent: true });
  const rollup = dataset.rollups.find((r) => r.id === input.rollupId);
  if (!rollup) throw new NotFound('rollup');
  const version = dataset.activeVersion;
  if (version === null) return { attached: false, items: 0, skipped: false };
  const prefix = versionKeyPrefix(dataset.tenantId, dataset.datasetId, version);
  const columns = [...new Set([...rollup.dimensions, ...(rollup.time ? [rollup.time.column] : [])])];
  for (const measure of rollup.measures)
    if (measure.column && !columns.includes(measure.column)) columns.push(measure.column);
  const rows: Row[] = [];
  for (const value of dataset.partitionValues) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const names: Record<string, string> = { '#pk': 'pk' };
      columns.forEach((column, i) => {
        names[`#c${i}`] = column;
      });
      const page = await options.data.query({
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: ['#pk', ...columns.map((_c, i) => `#c${i}`)].join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': dataPartitionKey(dataset.schema, prefix, value) },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      for (const item of page.Items ?? []) {
        const row: Record<string, CellValue> = {};
        for (const column of columns) if (item[column] !== undefined) row[column] = item[column] as CellValue;
        rows.push(row);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  const { items, built, skipped } = buildRollupItems(dataset.schema, [rollup], rows, prefix, version);
  if (skipped.length > 0) return { attached: false, items: 0, skipped: true };
  await batchWriteAll(
    options.data,
    items.map((item) => ({ PutRequest: { Item: item } })),
    { concurrency: options.concurrency ?? 4 },
  );
  const build = built[0]!;
  const attached = await options.datasets.attachRollupBuild(input.tenantId, input.datasetId, build);
  if (!attached) {
    await deletePartitions(
      options.data,
      build.build.partitionKeys.map((suffix) => prefix + suffix),
      { concurrency: options.concurrency ?? 4 },
    );
  }
  return { attached, items: attached ? build.build.itemCount : 0, skipped: false };
}
