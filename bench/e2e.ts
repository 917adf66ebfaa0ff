/**
 * `npm run bench:e2e [-- --json] [-- --duration <s>] [-- --connections <n>]`: the embed query
 * path end to end against the local stack, next to a baseline of the same DynamoDB work, in one
 * run. With `--json` the last line is one JSON object.
 *
 * - queryP50Ms / queryP99Ms: `POST /v1/embed/query` (4-widget dashboard) through the local
 *   gateway — HTTP, Cognito token verification, the handler (session, revocation check, embed
 *   and dashboard reads, parameter resolution, RLS, tenant-scoped credentials, audit) — measured
 *   by autocannon with ONE connection, so latency is not queueing.
 * - baselineP50Ms / baselineP99Ms: the same four compiled plans (same dataset version, RLS
 *   context and parameters) executed directly by `executeDatasetQuery` against the same DynamoDB
 *   Local, in parallel as the handler runs them; no HTTP, handler, auth or control-table reads.
 * - requestsPerSec: autocannon throughput with `--connections` (default 8) connections.
 * - roundTripsToRender: HTTP API calls the viewer iframe makes from its load to its first full
 *   render, counted in a real Chromium (`roundTripsSource: "chromium"`); without Chromium it is
 *   derived from the protocol by replaying the viewer's calls (`"protocol"`).
 *
 * Both sides cycle through the same list of date ranges (half a year each, shifted day by day),
 * so no result cache, present or future, can make either side answer from memory.
 * Everything runs in this process on this machine (DynamoDB Local included), so the figures are
 * for comparing the two sides, not absolute production latencies.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import autocannon from 'autocannon';
import { DashboardRepository } from '../functions/control/dashboards.ts';
import { DatasetRepository } from '../functions/control/datasets.ts';
import { TableGateway } from '../functions/control/table-gateway.ts';
import { RlsRepository } from '../functions/control/rls.ts';
import { compileDatasetQuery, datasetSnapshot, type QueryPlan } from '../functions/datasets/compiler.ts';
import { loadRlsContext } from '../functions/datasets/dashboard-query.ts';
import { executeDatasetQuery } from '../functions/datasets/executor.ts';
import type { Caller } from '../functions/shared/identity.ts';
import type { DateRange } from '../functions/token/param-types.ts';
import { type DevStack, startDevStack } from '../local/dev.ts';
import { CHROMIUM_PATH, launchHeadlessChromium } from '../local/chromium.ts';
import { localCredentials } from '../local/dynamodb.ts';
import { DEMO_DASHBOARD_ID, DEMO_DATASET_ID, DEMO_TENANTS } from '../local/seed.ts';

const WARMUP_REQUESTS = 30;
const RANGES = 2_000;

interface Options {
  readonly json: boolean;
  readonly durationSeconds: number;
  readonly connections: number;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string, fallback: number) => {
    const index = argv.indexOf(name);
    if (index < 0) return fallback;
    const parsed = Number(argv[index + 1]);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} needs a positive integer`);
    return parsed;
  };
  return {
    json: argv.includes('--json'),
    durationSeconds: value('--duration', 10),
    connections: value('--connections', 8),
  };
}

/** Deterministic date ranges of about half a year inside 2025 (none repeats within a run). */
function dateRanges(count: number): DateRange[] {
  const day = (offset: number) => new Date(Date.UTC(2025, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
  return Array.from({ length: count }, (_, i) => {
    const start = i % 180;
    const length = 150 + ((i * 7) % 35);
    return { from: day(start), to: day(Math.min(364, start + length)) };
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Opens an embed session for `username` through the API, as the viewer does. */
async function openSession(stack: DevStack, username: string, password: string) {
  const { idToken } = await stack.login(username, password);
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${stack.urls.api}${path}`, {
      method: 'POST',
      headers: { Authorization: idToken, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const issued = await post('/v1/embed-tokens', { embedId: DEMO_TENANTS.acme.embedId, lifetimeSeconds: 600 });
  const session = await post('/v1/embed/sessions', { token: issued.token });
  return { idToken, session, post };
}

/** autocannon against `POST /v1/embed/query`, each request with the next date range. */
async function runAutocannon(input: {
  url: string;
  idToken: string;
  sessionId: string;
  ranges: readonly DateRange[];
  connections: number;
  durationSeconds?: number;
  amount?: number;
}): Promise<autocannon.Result> {
  let next = 0;
  const result = await autocannon({
    url: input.url,
    connections: input.connections,
    ...(input.amount ? { amount: input.amount } : { duration: input.durationSeconds ?? 10 }),
    requests: [
      {
        method: 'POST',
        path: '/v1/embed/query',
        headers: { authorization: input.idToken, 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            sessionId: input.sessionId,
            embedId: DEMO_TENANTS.acme.embedId,
            params: { dateRange: input.ranges[next++ % input.ranges.length] },
          }),
        }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`autocannon saw ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return result;
}

/** The baseline: the same plans, executed directly, sequentially one dashboard at a time. */
async function runBaseline(stack: DevStack, caller: Caller, ranges: readonly DateRange[], durationSeconds: number) {
  const credentials = localCredentials();
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.services.dynamoEndpoint, region: 'us-east-1', credentials }),
  );
  try {
    const control = new TableGateway(client, stack.services.controlTableName);
    const datasets = new DatasetRepository(control);
    const dashboards = new DashboardRepository(control);
    const dashboard = await dashboards.get(caller.tenantId, DEMO_DASHBOARD_ID);
    if (!dashboard) throw new Error('The demo dashboard is missing');
    const dataset = await datasets.require(caller.tenantId, DEMO_DATASET_ID);
    const rls = await loadRlsContext({ caller, lockedParams: {} }, DEMO_DATASET_ID, new RlsRepository(control));
    // Compiled before timing: the baseline is only the DynamoDB work of the four plans.
    const planSets: QueryPlan[][] = ranges.map((dateRange) =>
      dashboard.widgets.map((widget) =>
        compileDatasetQuery({
          schema: dataset.schema,
          dataset: datasetSnapshot(dataset),
          widgetQuery: widget.query,
          rls,
          parameters: { dateRange },
        }),
      ),
    );
    const dataTable = new TableGateway(client, stack.services.dataTableName);
    const execute = (plans: readonly QueryPlan[]) =>
      Promise.all(plans.map((plan) => executeDatasetQuery(plan, { table: dataTable })));
    for (let i = 0; i < WARMUP_REQUESTS; i++) await execute(planSets[i % planSets.length]!);
    const latencies: number[] = [];
    const deadline = performance.now() + durationSeconds * 1000;
    for (let i = 0; performance.now() < deadline; i++) {
      const started = performance.now();
      await execute(planSets[i % planSets.length]!);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length };
  } finally {
    client.destroy();
  }
}

/** API calls of the viewer frame from its load to `rendered`, in a real Chromium. */
async function roundTripsInChromium(stack: DevStack, username: string, password: string): Promise<number> {
  const browser = await launchHeadlessChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    const calls: string[] = [];
    page.on('request', (request) => {
      // The host page's own token request is the host's, not the viewer's.
      if (request.frame() !== page.mainFrame() && new URL(request.url()).pathname.startsWith('/v1/')) {
        calls.push(request.url());
      }
    });
    await page.goto(stack.urls.demo);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    // The demo app says so when the SDK reports `rendered`: the widgets show their data.
    await page.getByText('Dashboard loaded.').waitFor({ timeout: 30_000 });
    return calls.length;
  } finally {
    await browser.close();
  }
}

/** Without a browser: replay the viewer's protocol and count the calls until every widget has data. */
async function roundTripsFromProtocol(stack: DevStack, username: string, password: string): Promise<number> {
  const { session, post } = await openSession(stack, username, password);
  const widgets = ((session.dashboard as { widgets?: { id: string }[] } | undefined)?.widgets ?? []).map((w) => w.id);
  const data = (session.data as { widgets?: Record<string, unknown> } | undefined)?.widgets ?? {};
  if (widgets.every((id) => id in data)) return 1;
  await post('/v1/embed/query', { sessionId: session.sessionId, embedId: DEMO_TENANTS.acme.embedId });
  return 2;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const say = (line: string) => {
    if (!options.json) console.log(line);
  };
  const webOutDir = await mkdtemp(join(tmpdir(), 'secure-embed-bench-web-'));
  say('bench:e2e: starting the local stack…');
  const stack = await startDevStack({ port: 0, quiet: true, webOutDir });
  try {
    const alice = stack.users.find((user) => user.username === 'alice');
    if (!alice) throw new Error('The demo has no alice');
    const ranges = dateRanges(RANGES);
    const { idToken, session } = await openSession(stack, alice.username, alice.password);
    const sessionId = session.sessionId as string;
    const caller: Caller = {
      sub: stack.subs.alice as string,
      tenantId: alice.tenantId,
      groups: [],
      attributes: { region: alice.region as string },
    };
    const widgets = ((session.dashboard as { widgets?: unknown[] }).widgets ?? []).length;

    say(`bench:e2e: ${widgets} widgets; warming up…`);
    await runAutocannon({ url: stack.urls.api, idToken, sessionId, ranges, connections: 1, amount: WARMUP_REQUESTS });

    say(`bench:e2e: POST /v1/embed/query, 1 connection, ${options.durationSeconds} s…`);
    const latency = await runAutocannon({
      url: stack.urls.api,
      idToken,
      sessionId,
      ranges,
      connections: 1,
      durationSeconds: options.durationSeconds,
    });
    say(`bench:e2e: baseline (same plans, executor → DynamoDB Local), ${options.durationSeconds} s…`);
    const baseline = await runBaseline(stack, caller, ranges, options.durationSeconds);
    say(`bench:e2e: throughput, ${options.connections} connections, ${options.durationSeconds} s…`);
    const throughput = await runAutocannon({
      url: stack.urls.api,
      idToken,
      sessionId,
      ranges,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
    });

    let roundTripsToRender: number;
    let roundTripsSource: 'chromium' | 'protocol';
    if (existsSync(CHROMIUM_PATH)) {
      say('bench:e2e: first render in Chromium…');
      roundTripsToRender = await roundTripsInChromium(stack, alice.username, alice.password);
      roundTripsSource = 'chromium';
    } else {
      say(`bench:e2e: no Chromium at ${CHROMIUM_PATH}; counting round trips from the protocol instead`);
      roundTripsToRender = await roundTripsFromProtocol(stack, alice.username, alice.password);
      roundTripsSource = 'protocol';
    }

    const result = {
      queryP50Ms: round(latency.latency.p50),
      queryP99Ms: round(latency.latency.p99),
      baselineP50Ms: round(baseline.p50),
      baselineP99Ms: round(baseline.p99),
      queryToBaselineP50: round(latency.latency.p50 / baseline.p50),
      requestsPerSec: round(throughput.requests.average, 1),
      throughputP50Ms: round(throughput.latency.p50),
      roundTripsToRender,
      roundTripsSource,
      widgets,
      latencySamples: latency.requests.total,
      baselineSamples: baseline.samples,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      targetsMet: {
        roundTripsToRender: roundTripsToRender <= 3,
        queryP50WithinBaseline: latency.latency.p50 <= 1.5 * baseline.p50,
      },
    };
    if (!options.json) {
      for (const [name, value] of Object.entries(result)) {
        say(`${name.padEnd(20)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
      }
    }
    console.log(JSON.stringify(result));
  } finally {
    await stack.stop();
    await rm(webOutDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
