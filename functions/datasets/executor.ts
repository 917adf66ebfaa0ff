import type { QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { QueryTooLarge } from '#errors';
import type { TableGateway } from '#control/table-gateway';
import { GroupAggregator, type OutputRow, sortRows, TooManyGroups } from './aggregate.ts';
import { canonicalJson, type PlannedQuery, type QueryPlan } from './compiler.ts';
import { matchesPredicate, type Predicate } from './predicates.ts';
import { type ColumnType, findColumn } from './schema.ts';
import { type CellValue, compareValues } from './values.ts';
import { metricName, type OrderBy } from './widget.ts';

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
  /** `rollup:<id>` or `raw`: where the answer was read from. */
  readonly source: string;
}

export const DEFAULT_ROW_CAP = 100_000;
export const DEFAULT_MAX_GROUPS = 10_000;
/** Plain-row queries without their own limit return at most this many rows (with `truncated` when more matched). */
export const DEFAULT_ROW_OUTPUT_LIMIT = 10_000;

/** Executes a plan against the data table and returns typed columns, rows, the truncation flag and read stats. */
export async function executeDatasetQuery(plan: QueryPlan, options: ExecuteOptions): Promise<QueryResult> {
  const { results } = await executeDatasetQueries([plan], options);
  return results[0]!;
}

/**
 * Executes several plans of one request. Plans that read the same source over the same
 * partitions and key range (e.g. three widgets over one rollup and one date range) share one
 * read: it carries the union of their projections and no `FilterExpression`, and every item
 * feeds each plan's own aggregator after that plan's predicates (pushed and residual) are
 * checked in memory. A plan's stats are those of the read it used; `reads` counts every read once.
 */
export async function executeDatasetQueries(
  plans: readonly QueryPlan[],
  options: ExecuteOptions,
): Promise<{ results: QueryResult[]; reads: QueryStats }> {
  const reads: QueryStats = emptyStats();
  const consumers = plans.map((plan) => createConsumer(plan, options));
  const groups = new Map<string, Consumer[]>();
  consumers.forEach((consumer, i) => {
    const plan = plans[i]!;
    if (plan.empty) return;
    // A top-N read stops early for its own limit: it is never shared.
    const key = plan.topN ? `topN:${i}` : readKey(plan);
    groups.set(key, [...(groups.get(key) ?? []), consumer]);
  });
  const abort = { stopped: false };
  await Promise.all([...groups.values()].map((group) => runReadGroup(group, options, reads, abort)));
  return { results: consumers.map((consumer) => consumer.result()), reads };
}

interface Consumer {
  readonly plan: QueryPlan;
  readonly stats: QueryStats;
  stopped: boolean;
  /** Feeds one item read from a query of the plan; returns true when it matched. */
  consume(item: Record<string, unknown>, checkPushed: boolean): boolean;
  result(): QueryResult;
}

function emptyStats(): QueryStats {
  return { itemsRead: 0, rowsMatched: 0, consumedRead: 0, queries: 0, partitions: 0 };
}

function createConsumer(plan: QueryPlan, options: ExecuteOptions): Consumer {
  const stats = emptyStats();
  const columns = resultColumns(plan);
  const rowCap = options.rowCap ?? DEFAULT_ROW_CAP;
  const overflow = options.overflow ?? (plan.output.kind === 'rows' ? 'truncate' : 'error');
  const sink = createSink(plan, options.maxGroups ?? DEFAULT_MAX_GROUPS);
  let truncated = false;
  const consumer: Consumer = {
    plan,
    stats,
    stopped: plan.empty,
    consume(item, checkPushed) {
      if (consumer.stopped) return false;
      // Defence in depth: an item outside this version's (or this rollup's) keys is never part of the answer.
      if (typeof item.pk !== 'string' || !item.pk.startsWith(plan.keyPrefix)) return false;
      const value = (predicate: Predicate) => item[predicate.column] as CellValue;
      if (!plan.residual.every((predicate) => matchesPredicate(predicate, value(predicate)))) return false;
      if (checkPushed && !plan.pushed.every((predicate) => matchesPredicate(predicate, value(predicate)))) return false;
      if (stats.rowsMatched >= rowCap) {
        // Stop the other workers either way; they must not keep reading for a failed query.
        consumer.stopped = true;
        if (overflow === 'error') throw new QueryTooLarge(rowCap);
        truncated = true;
        return false;
      }
      stats.rowsMatched++;
      try {
        if (sink.add(item) === 'full') consumer.stopped = true;
      } catch (error) {
        if (!(error instanceof TooManyGroups)) throw error;
        consumer.stopped = true;
        if (overflow === 'error') throw new QueryTooLarge(rowCap);
        truncated = true;
      }
      return true;
    },
    result: () => ({
      columns,
      rows: sink.rows(),
      truncated: truncated || sink.truncated(),
      stats,
      source: plan.source.kind === 'rollup' ? `rollup:${plan.source.rollupId}` : 'raw',
    }),
  };
  return consumer;
}

/** What makes two reads the same: index, partition key, key condition and direction, and the key prefix guard. */
function readKey(plan: QueryPlan): string {
  return canonicalJson({
    keyPrefix: plan.keyPrefix,
    queries: plan.queries.map((query) => {
      const names = query.ExpressionAttributeNames;
      const values = query.ExpressionAttributeValues;
      return {
        index: query.IndexName ?? null,
        condition: query.KeyConditionExpression,
        forward: query.ScanIndexForward ?? true,
        names: { kp: names['#kp'], ks: names['#ks'] },
        values: [':kp', ':kl', ':ku', ':ks'].map((name) => values[name] ?? null),
      };
    }),
  });
}

/** The request a shared read sends: the key condition of the plans, the union of their projections, no filter. */
function sharedQuery(queries: readonly PlannedQuery[]): PlannedQuery {
  const first = queries[0]!;
  const attributes = new Set<string>();
  for (const query of queries) {
    for (const placeholder of query.ProjectionExpression.split(',').map((part) => part.trim())) {
      const attribute = query.ExpressionAttributeNames[placeholder];
      if (attribute !== undefined) attributes.add(attribute);
    }
  }
  attributes.delete('pk');
  attributes.delete('sk');
  const names: Record<string, string> = { '#pk': 'pk', '#sk': 'sk', '#kp': first.ExpressionAttributeNames['#kp']! };
  if (first.KeyConditionExpression.includes('#ks')) names['#ks'] = first.ExpressionAttributeNames['#ks']!;
  const projected = [...attributes].map((attribute, i) => {
    names[`#a${i}`] = attribute;
    return `#a${i}`;
  });
  const values = Object.fromEntries(
    Object.entries(first.ExpressionAttributeValues).filter(([name]) =>
      new RegExp(`${name}(?![A-Za-z0-9_])`).test(first.KeyConditionExpression),
    ),
  );
  return {
    ...(first.IndexName ? { IndexName: first.IndexName } : {}),
    KeyConditionExpression: first.KeyConditionExpression,
    ...(first.ScanIndexForward === false ? { ScanIndexForward: false } : {}),
    ProjectionExpression: ['#pk', '#sk', ...projected].join(', '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

async function runReadGroup(
  consumers: readonly Consumer[],
  options: ExecuteOptions,
  reads: QueryStats,
  abort: { stopped: boolean },
): Promise<void> {
  const shared = consumers.length > 1;
  const plan = consumers[0]!.plan;
  const requests = plan.queries.map((query, q) =>
    shared ? sharedQuery(consumers.map((consumer) => consumer.plan.queries[q]!)) : query,
  );
  const done = () => abort.stopped || consumers.every((consumer) => consumer.stopped);
  const account = (field: keyof QueryStats, amount: number) => {
    reads[field] += amount;
    for (const consumer of consumers) consumer.stats[field] += amount;
  };

  const runOne = async (query: PlannedQuery): Promise<void> => {
    account('partitions', 1);
    const topN = plan.topN;
    let matched = 0;
    let boundary: CellValue | undefined;
    let pageLimit = topN ? topN.limit + 1 : undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await options.table.query({
        ...query,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        ...(pageLimit !== undefined ? { Limit: pageLimit } : {}),
        ...(options.consistentRead && !query.IndexName ? { ConsistentRead: true } : {}),
        ReturnConsumedCapacity: 'TOTAL',
      });
      account('queries', 1);
      account('itemsRead', page.ScannedCount ?? 0);
      account('consumedRead', page.ConsumedCapacity?.CapacityUnits ?? 0);
      for (const item of page.Items ?? []) {
        if (topN && matched >= topN.limit) {
          // Key order is output order: nothing after the limit can make the merged top N.
          if (topN.exact) return;
          // Otherwise only rows tied with the last one kept still can.
          if (compareValues(item[topN.sortColumn] as CellValue, boundary!) !== 0) return;
        }
        let accepted = false;
        try {
          for (const consumer of consumers) if (consumer.consume(item, shared)) accepted = true;
        } catch (error) {
          abort.stopped = true;
          throw error;
        }
        if (topN && accepted && ++matched === topN.limit) boundary = item[topN.sortColumn] as CellValue;
      }
      startKey = page.LastEvaluatedKey;
      if (pageLimit !== undefined) pageLimit = Math.min(pageLimit * 2, 1000);
    } while (startKey && !done());
  };

  const queue = requests.map((query) => query);
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, queue.length)) }, async () => {
    for (let next = queue.shift(); next && !done(); next = queue.shift()) await runOne(next);
  });
  await Promise.all(workers);
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
    const fromRollup = plan.source.kind === 'rollup';
    return {
      add(item) {
        if (fromRollup) aggregator.addPartial(item);
        else aggregator.add(item);
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
  const tieDirection = rowTieDirection(output.orderBy);
  return {
    add(item) {
      matched++;
      buffer.push(item);
      if (!ordered) {
        // Without an order, the first `limit` rows are as good as any; one more proves there are more.
        return buffer.length > limit ? 'full' : 'more';
      }
      if (buffer.length >= 2 * limit) buffer = sortRows(buffer, output.orderBy, tieBreak, tieDirection).slice(0, limit);
      return 'more';
    },
    rows() {
      return sortRows(buffer, output.orderBy, tieBreak, tieDirection)
        .slice(0, limit)
        .map((item) =>
          Object.fromEntries(output.columns.map((column) => [column, (item[column] as CellValue) ?? null])),
        );
    },
    // An explicit limit is the widget's choice; only the default output limit is a truncation.
    truncated: () => output.limit === undefined && matched > limit,
  };
}

/**
 * Plain rows equal on every order key are ordered by their table key (`pk`, `sk`), in the
 * direction of the first order key: so "latest 25 by date" read in reverse key order is already
 * in output order, and a partition can stop after 25 rows however many share the last date.
 */
export function rowTieDirection(orderBy: readonly OrderBy[]): 'asc' | 'desc' {
  return orderBy[0]?.direction === 'desc' ? 'desc' : 'asc';
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
