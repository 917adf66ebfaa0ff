import type { QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { QueryTooLarge } from '#errors';
import type { TableGateway } from '#control/table-gateway';
import { GroupAggregator, type OutputRow, sortRows, TooManyGroups } from './aggregate.ts';
import type { PlannedQuery, QueryPlan } from './compiler.ts';
import { matchesPredicate } from './predicates.ts';
import { type ColumnType, findColumn } from './schema.ts';
import type { CellValue } from './values.ts';
import { metricName } from './widget.ts';

/**
 * Runs a compiled plan: one `Query` per planned partition with bounded parallelism, every
 * page followed, every item re-checked against the residual (RLS) predicates, rows streamed
 * into a bounded sink. Reading beyond the row cap is either an error (`QUERY_TOO_LARGE`) or
 * an explicit `truncated: true`; never a silent cut.
 */

export interface ExecuteOptions {
  /** The data table, as the viewer's tenant (tenant-scoped credentials). */
  readonly table: TableGateway;
  /** Maximum number of matching rows read from DynamoDB (default 100,000). */
  readonly rowCap?: number;
  /** Maximum number of groups an aggregate may hold in memory (default 10,000). */
  readonly maxGroups?: number;
  /** Parallel `Query` requests (default 8). */
  readonly concurrency?: number;
  /** What happens past the row cap. Default: `truncate` for plain rows, `error` for aggregates (a partial sum would mislead). */
  readonly overflow?: 'truncate' | 'error';
  /** Strongly consistent reads of the table (not available on indexes). */
  readonly consistentRead?: boolean;
}

export interface QueryStats {
  /** Items DynamoDB read (`ScannedCount`), before FilterExpression. */
  itemsRead: number;
  /** Rows that satisfied every predicate. */
  rowsMatched: number;
  /** Read capacity units consumed. */
  consumedRead: number;
  /** `Query` requests sent (pages included). */
  queries: number;
  /** Partitions (key values) queried. */
  partitions: number;
}

export interface ResultColumn {
  readonly name: string;
  readonly type: ColumnType;
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly OutputRow[];
  /** True when the result is incomplete: the row cap was hit, or plain rows exceeded the default output limit. */
  readonly truncated: boolean;
  readonly stats: QueryStats;
}

export const DEFAULT_ROW_CAP = 100_000;
export const DEFAULT_MAX_GROUPS = 10_000;
/** Plain-row queries without their own limit return at most this many rows (with `truncated` when more matched). */
export const DEFAULT_ROW_OUTPUT_LIMIT = 10_000;

/** Executes a plan against the data table and returns typed columns, rows, the truncation flag and read stats. */
export async function executeDatasetQuery(plan: QueryPlan, options: ExecuteOptions): Promise<QueryResult> {
  const stats: QueryStats = { itemsRead: 0, rowsMatched: 0, consumedRead: 0, queries: 0, partitions: 0 };
  const columns = resultColumns(plan);
  const rowCap = options.rowCap ?? DEFAULT_ROW_CAP;
  const overflow = options.overflow ?? (plan.output.kind === 'rows' ? 'truncate' : 'error');
  const sink = createSink(plan, options.maxGroups ?? DEFAULT_MAX_GROUPS);
  if (plan.empty) return { columns, rows: sink.rows(), truncated: false, stats };

  let stop = false;
  let truncated = false;
  const consume = (item: Record<string, unknown>): void => {
    if (stop) return;
    // Defence in depth: an index entry pointing into another tenant, dataset or version is never a row of this one.
    if (typeof item.pk !== 'string' || !item.pk.startsWith(plan.keyPrefix)) return;
    if (!plan.residual.every((predicate) => matchesPredicate(predicate, item[predicate.column] as CellValue))) return;
    if (stats.rowsMatched >= rowCap) {
      // Stop the other workers either way; they must not keep reading for a failed query.
      stop = true;
      if (overflow === 'error') throw new QueryTooLarge(rowCap);
      truncated = true;
      return;
    }
    stats.rowsMatched++;
    try {
      if (sink.add(item) === 'full') stop = true;
    } catch (error) {
      if (!(error instanceof TooManyGroups)) throw error;
      stop = true;
      if (overflow === 'error') throw new QueryTooLarge(rowCap);
      truncated = true;
    }
  };

  const runOne = async (query: PlannedQuery): Promise<void> => {
    stats.partitions++;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await options.table.query({
        ...query,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        ...(options.consistentRead && !query.IndexName ? { ConsistentRead: true } : {}),
        ReturnConsumedCapacity: 'TOTAL',
      });
      stats.queries++;
      stats.itemsRead += page.ScannedCount ?? 0;
      stats.consumedRead += page.ConsumedCapacity?.CapacityUnits ?? 0;
      for (const item of page.Items ?? []) consume(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey && !stop);
  };

  const queue = [...plan.queries];
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, queue.length)) }, async () => {
    for (let next = queue.shift(); next && !stop; next = queue.shift()) await runOne(next);
  });
  await Promise.all(workers);

  return { columns, rows: sink.rows(), truncated: truncated || sink.truncated(), stats };
}

interface Sink {
  /** Adds a matching item; `full` means no further rows can change the result. */
  add(item: Record<string, unknown>): 'more' | 'full';
  rows(): OutputRow[];
  truncated(): boolean;
}

function createSink(plan: QueryPlan, maxGroups: number): Sink {
  const output = plan.output;
  if (output.kind === 'aggregate') {
    const aggregator = new GroupAggregator(output.groupBy, output.metrics, maxGroups);
    return {
      add(item) {
        aggregator.add(item);
        return 'more';
      },
      rows() {
        const keys = output.groupBy.map((g) => g.column);
        const sorted = sortRows(aggregator.rows(), output.orderBy, [...keys, ...output.metrics.map(metricName)]);
        return output.limit !== undefined ? sorted.slice(0, output.limit) : sorted;
      },
      truncated: () => false,
    };
  }
  // Plain rows: keep at most 2 × limit rows, trimming to the best `limit` whenever the buffer
  // fills, so memory stays bounded however many rows match.
  const limit = output.limit ?? DEFAULT_ROW_OUTPUT_LIMIT;
  const ordered = output.orderBy.length > 0;
  let buffer: Record<string, unknown>[] = [];
  let matched = 0;
  const tieBreak = ['pk', 'sk'];
  return {
    add(item) {
      matched++;
      buffer.push(item);
      if (!ordered) {
        // Without an order, the first `limit` rows are as good as any; one more proves there are more.
        return buffer.length > limit ? 'full' : 'more';
      }
      if (buffer.length >= 2 * limit) buffer = sortRows(buffer, output.orderBy, tieBreak).slice(0, limit);
      return 'more';
    },
    rows() {
      return sortRows(buffer, output.orderBy, tieBreak)
        .slice(0, limit)
        .map((item) =>
          Object.fromEntries(output.columns.map((column) => [column, (item[column] as CellValue) ?? null])),
        );
    },
    // An explicit limit is the widget's choice; only the default output limit is a truncation.
    truncated: () => output.limit === undefined && matched > limit,
  };
}

function resultColumns(plan: QueryPlan): ResultColumn[] {
  const typeOf = (column: string): ColumnType => findColumn(plan.schema, column)!.type;
  const output = plan.output;
  if (output.kind === 'rows') return output.columns.map((name) => ({ name, type: typeOf(name) }));
  return [
    ...output.groupBy.map((group) => ({ name: group.column, type: typeOf(group.column) })),
    ...output.metrics.map((metric) => ({
      name: metricName(metric),
      type: metric.op === 'min' || metric.op === 'max' ? typeOf(metric.column!) : ('number' as ColumnType),
    })),
  ];
}
