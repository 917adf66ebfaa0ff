/**
 * Demo data for the local dev stack (`npm run dev` seeds it on start; `npm run seed` re-applies
 * it to a running stack). Everything goes through the product's own domain code — tenant and
 * dataset repositories, `createTenantSigningKey` against the (local) Secrets Manager,
 * `importDataset`, the dashboard validator, the RLS and embed repositories — so the demo
 * exercises the same paths as a real tenant's onboarding. Every step is idempotent, so an
 * on-disk state (`--persist`) can be seeded again on every start.
 *
 * The demo:
 * - tenant `acme`: viewers `alice` (custom:region EU) and `bob` (US), a signer `acme-signer`
 *   (group embed-signers) and an admin `acme-admin` (group tenant-admins);
 * - tenant `globex`: viewer `gina` (EU) and its own, different data;
 * - per tenant a `sales` dataset (partition column `region`, sort column `date`, deterministic
 *   rows for every day of 2025), RLS `region` ← identity claim `custom:region`, a dashboard with
 *   a KPI, a bar chart by month, a line chart by week and a table, and an embed whose date range
 *   is editable while `channel` stays disabled (region is enforced by RLS, never a parameter).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Conflict } from '#errors';
import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { EmbedRepository } from '#control/embeds';
import { RlsRepository } from '#control/rls';
import { TableGateway } from '#control/table-gateway';
import { TenantRepository } from '#control/tenants';
import { saveDashboard } from '#admin/dashboards';
import { createDataset, putRlsRules } from '#admin/datasets';
import { declareRollup } from '#admin/rollups';
import { validateEmbed } from '#admin/embeds';
import { createTenant } from '#admin/tenants';
import { importDataset } from '#datasets/import';
import type { DatasetSchema } from '#datasets/schema';
import { createKeySetRepository } from '#keys/key-set';
import { createTenantSigningKey } from '#keys/onboarding';
import { GROUP_EMBED_SIGNERS, GROUP_TENANT_ADMINS } from '#shared/identity';
import type { ParameterDefinition } from '#token/param-types';
import { bootstrapUserPool, ensureUser, type LocalCognito, type LocalUserPool } from './cognito.ts';
import { localCredentials } from './dynamodb.ts';

/** A seeded Cognito user. Passwords are fixed, public and for the local demo only. */
export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly tenantId: string;
  /** `custom:region`, the RLS attribute of the demo dataset. */
  readonly region?: string;
  readonly groups: readonly string[];
  /** What the user is for, printed in the dev banner. */
  readonly role: string;
}

/** The demo tenants and the ids of what the seed creates in each. */
export const DEMO_TENANTS = Object.freeze({
  acme: { tenantId: 'acme', name: 'Acme Corp', embedId: 'acme-sales', rowsPerRegionDay: 3, seed: 20250101 },
  globex: { tenantId: 'globex', name: 'Globex Inc', embedId: 'globex-sales', rowsPerRegionDay: 1, seed: 424242 },
});

export const DEMO_DATASET_ID = 'sales';
export const DEMO_DASHBOARD_ID = 'sales-overview';
export const DEMO_REGIONS = ['EU', 'US', 'APAC'] as const;
export const DEMO_CHANNELS = ['Online', 'Retail', 'Partner'] as const;
/** The demo year: the dataset covers it day by day and the date range parameter is bounded by it. */
export const DEMO_DATE_FROM = '2025-01-01';
export const DEMO_DATE_TO = '2025-12-31';

// Passwords meet the deployed pool's policy (length, upper, lower, digit, symbol) so the same
// users could be created there; they are published here on purpose and must never be reused.
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { username: 'alice', password: 'Demo-alice-2025!', tenantId: 'acme', region: 'EU', groups: [], role: 'viewer, EU' },
  { username: 'bob', password: 'Demo-bob-2025!', tenantId: 'acme', region: 'US', groups: [], role: 'viewer, US' },
  {
    username: 'acme-signer',
    password: 'Demo-signer-2025!',
    tenantId: 'acme',
    groups: [GROUP_EMBED_SIGNERS],
    role: 'signer (embed-signers): signs tokens for other acme users',
  },
  {
    username: 'acme-admin',
    password: 'Demo-admin-2025!',
    tenantId: 'acme',
    groups: [GROUP_TENANT_ADMINS],
    role: 'admin (tenant-admins): revocations, embeds, audit',
  },
  { username: 'gina', password: 'Demo-gina-2025!', tenantId: 'globex', region: 'EU', groups: [], role: 'viewer, EU' },
]);

const PRODUCTS: Readonly<Record<keyof typeof DEMO_TENANTS, readonly string[]>> = {
  acme: ['Anvil', 'Rocket Skates', 'Giant Magnet', 'Bird Seed'],
  globex: ['Turbine', 'Generator', 'Transformer'],
};

/** The schema of the demo sales dataset. */
export const SALES_SCHEMA: DatasetSchema = {
  columns: [
    { name: 'date', type: 'date', label: 'Date' },
    { name: 'region', type: 'string', label: 'Region' },
    { name: 'product', type: 'string', label: 'Product', required: true },
    { name: 'channel', type: 'string', label: 'Channel', required: true },
    { name: 'revenue', type: 'number', label: 'Revenue', required: true },
    { name: 'units', type: 'number', label: 'Units', required: true },
  ],
  partitionColumn: 'region',
  sortColumn: 'date',
};

/** The dashboard's parameters: an editable date range and a channel filter the embed leaves disabled. */
export const SALES_PARAMETERS: readonly ParameterDefinition[] = [
  {
    name: 'dateRange',
    type: 'dateRange',
    label: 'Date range',
    min: DEMO_DATE_FROM,
    max: DEMO_DATE_TO,
    default: { from: DEMO_DATE_FROM, to: DEMO_DATE_TO },
  },
  { name: 'channel', type: 'string', label: 'Channel', allowedValues: [...DEMO_CHANNELS] },
];

const PERIOD_FILTERS = [
  { column: 'date', op: 'between', value: { param: 'dateRange' } },
  // Dropped by the compiler while the parameter has no value, which is always the case for a disabled one.
  { column: 'channel', op: 'eq', value: { param: 'channel' } },
] as const;

/** The four widgets: a KPI, a bar chart by month, a line chart by week and a table of the latest sales. */
export const SALES_WIDGETS = [
  {
    id: 'kpi-revenue',
    type: 'number',
    title: 'Revenue',
    datasetId: DEMO_DATASET_ID,
    query: { filters: PERIOD_FILTERS, metrics: [{ op: 'sum', column: 'revenue', as: 'revenue' }] },
  },
  {
    id: 'revenue-by-month',
    type: 'bar',
    title: 'Revenue by month',
    datasetId: DEMO_DATASET_ID,
    query: {
      filters: PERIOD_FILTERS,
      groupBy: [{ column: 'date', bucket: 'month' }],
      metrics: [{ op: 'sum', column: 'revenue', as: 'revenue' }],
      orderBy: [{ key: 'date', direction: 'asc' }],
    },
  },
  {
    id: 'units-by-week',
    type: 'line',
    title: 'Units by week',
    datasetId: DEMO_DATASET_ID,
    query: {
      filters: PERIOD_FILTERS,
      groupBy: [{ column: 'date', bucket: 'week' }],
      metrics: [{ op: 'sum', column: 'units', as: 'units' }],
      orderBy: [{ key: 'date', direction: 'asc' }],
    },
  },
  {
    id: 'latest-sales',
    type: 'table',
    title: 'Latest sales',
    datasetId: DEMO_DATASET_ID,
    query: {
      filters: PERIOD_FILTERS,
      columns: ['date', 'region', 'product', 'channel', 'revenue', 'units'],
      orderBy: [{ key: 'date', direction: 'desc' }],
      limit: 25,
    },
  },
] as const;

/**
 * The rollups the demo dashboard needs: revenue and units per region and day. `region` is the
 * RLS column (a viewer restricted to a region reads only its partition of the rollup); months
 * and ISO weeks are merged from days, and the dashboard's date range is whole days.
 */
export const SALES_ROLLUPS = [
  {
    id: 'region-day',
    dimensions: ['region'],
    time: { column: 'date', granularity: 'day' },
    measures: [{ op: 'count' }, { op: 'sum', column: 'revenue' }, { op: 'sum', column: 'units' }],
  },
] as const;

/** One generated sales row, as imported (dates as `YYYY-MM-DD`). */
export interface SalesRow {
  readonly date: string;
  readonly region: string;
  readonly product: string;
  readonly channel: string;
  readonly revenue: number;
  readonly units: number;
}

/** mulberry32: a tiny, fast PRNG, so the same seed always yields the same demo rows. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic sales rows: `rowsPerRegionDay` rows for every region and every day of
 * [`from`, `to`], with a yearly season (peaks in Q4) and a weekly rhythm, so the charts have a
 * recognisable shape and every region differs.
 */
export function generateSalesRows(options: {
  readonly seed: number;
  readonly products: readonly string[];
  readonly rowsPerRegionDay: number;
  readonly from?: string;
  readonly to?: string;
}): SalesRow[] {
  const random = prng(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const regionScale: Record<string, number> = { EU: 1.0, US: 1.4, APAC: 0.7 };
  const rows: SalesRow[] = [];
  const start = Date.parse(`${options.from ?? DEMO_DATE_FROM}T00:00:00Z`);
  const end = Date.parse(`${options.to ?? DEMO_DATE_TO}T00:00:00Z`);
  for (let day = start; day <= end; day += 86_400_000) {
    const date = new Date(day);
    const dayOfYear = Math.floor((day - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000);
    const season = 1 + 0.35 * Math.sin(((dayOfYear - 100) / 365) * 2 * Math.PI);
    const weekday = date.getUTCDay();
    const week = weekday === 0 || weekday === 6 ? 0.7 : 1.05;
    for (const region of DEMO_REGIONS) {
      for (let n = 0; n < options.rowsPerRegionDay; n++) {
        const units = Math.max(1, Math.round((4 + random() * 16) * season * week * (regionScale[region] ?? 1)));
        const unitPrice = 20 + Math.round(random() * 80);
        rows.push({
          date: date.toISOString().slice(0, 10),
          region,
          product: pick(options.products),
          channel: pick(DEMO_CHANNELS),
          revenue: Math.round(units * unitPrice * 100) / 100,
          units,
        });
      }
    }
  }
  return rows;
}

/** What the seed needs: the running stand-ins (or their clients) and the table names. */
export interface SeedDemoInput {
  readonly cognito: LocalCognito;
  readonly pool: LocalUserPool;
  readonly documentClient: DynamoDBDocumentClient;
  readonly controlTableName: string;
  readonly dataTableName: string;
  readonly secrets: SecretsManagerClient;
  readonly signingKeySecretPrefix: string;
  readonly rotationLambdaArn: string;
  /** The demo host app's origin: the only origin the embeds may be framed by. */
  readonly demoOrigin: string;
  readonly log?: (line: string) => void;
}

export interface DemoSeedResult {
  /** Cognito `sub` of every demo user, by username. */
  readonly subs: Readonly<Record<string, string>>;
  /** Rows in each tenant's sales dataset. */
  readonly rowCounts: Readonly<Record<string, number>>;
  /** Embed id of each tenant's sales embed. */
  readonly embedIds: Readonly<Record<string, string>>;
}

/** Seeds (or brings up to date) the whole demo. Idempotent. */
export async function seedDemo(input: SeedDemoInput): Promise<DemoSeedResult> {
  const log = input.log ?? (() => undefined);
  const control = new TableGateway(input.documentClient, input.controlTableName);
  const data = new TableGateway(input.documentClient, input.dataTableName);
  const tenants = new TenantRepository(control);
  const datasets = new DatasetRepository(control);
  const dashboards = new DashboardRepository(control);
  const rls = new RlsRepository(control);
  const embeds = new EmbedRepository(control);
  const keySets = createKeySetRepository({ table: control });

  const subs: Record<string, string> = {};
  for (const user of DEMO_USERS) {
    subs[user.username] = await ensureUser(input.cognito, input.pool, {
      username: user.username,
      password: user.password,
      tenantId: user.tenantId,
      groups: user.groups,
      ...(user.region ? { region: user.region } : {}),
    });
  }
  log(`users: ${DEMO_USERS.map((u) => u.username).join(', ')}`);

  const rowCounts: Record<string, number> = {};
  const embedIds: Record<string, string> = {};
  for (const [key, tenant] of Object.entries(DEMO_TENANTS) as [
    keyof typeof DEMO_TENANTS,
    (typeof DEMO_TENANTS)[keyof typeof DEMO_TENANTS],
  ][]) {
    const { tenantId } = tenant;
    await ignoreConflict(() => createTenant({ tenants }, { tenantId, name: tenant.name }));
    const onboarded = await ignoreConflict(() =>
      createTenantSigningKey({
        secrets: input.secrets,
        keySets,
        prefix: input.signingKeySecretPrefix,
        tenantId,
        rotationLambdaArn: input.rotationLambdaArn,
        schedule: { rotationDays: 30 },
        now: Date.now,
      }),
    );
    log(`${tenantId}: signing key ${onboarded ? `${onboarded.kid} created` : 'already onboarded'}`);

    await ignoreConflict(() =>
      createDataset({ datasets }, { tenantId, datasetId: DEMO_DATASET_ID, name: 'Sales 2025', schema: SALES_SCHEMA }),
    );
    // Declared before the import, so the import builds them; re-declared only when changed.
    const declared = await datasets.require(tenantId, DEMO_DATASET_ID, { consistent: true });
    for (const rollup of SALES_ROLLUPS) {
      const existing = declared.rollups.find((r) => r.id === rollup.id);
      const same =
        existing &&
        JSON.stringify([existing.dimensions, existing.time, existing.measures]) ===
          JSON.stringify([rollup.dimensions, rollup.time, rollup.measures]);
      if (!same) await declareRollup({ datasets, data }, tenantId, DEMO_DATASET_ID, rollup);
    }
    const rows = generateSalesRows({
      seed: tenant.seed,
      products: PRODUCTS[key],
      rowsPerRegionDay: tenant.rowsPerRegionDay,
    });
    const dataset = await datasets.require(tenantId, DEMO_DATASET_ID, { consistent: true });
    // Re-importing identical rows would only churn versions; import when missing or different.
    if (dataset.activeVersion === null || dataset.rowCount !== rows.length) {
      const summary = await importDataset(
        { tenantId, datasetId: DEMO_DATASET_ID, format: 'json', content: JSON.stringify(rows) },
        { datasets, data, concurrency: 8 },
      );
      log(`${tenantId}: imported ${summary.rowCount} sales rows as ${summary.version}`);
    } else {
      log(`${tenantId}: ${dataset.rowCount} sales rows already imported (${dataset.activeVersion})`);
    }
    rowCounts[tenantId] = rows.length;

    await putRlsRules({ datasets, rls }, tenantId, DEMO_DATASET_ID, [
      { column: 'region', source: { kind: 'identity', claim: 'custom:region' } },
    ]);
    const saved = await saveDashboard(
      { dashboards, datasets, rls },
      {
        tenantId,
        dashboardId: DEMO_DASHBOARD_ID,
        title: `${tenant.name} · Sales 2025`,
        parameters: SALES_PARAMETERS,
        widgets: SALES_WIDGETS as unknown as readonly unknown[],
      },
    );
    log(
      `${tenantId}: widget sources ${Object.entries(saved.sources)
        .map(([id, s]) => `${id}=${s.source}`)
        .join(', ')}`,
    );
    // Saved on every start: the demo origin carries this run's port.
    await embeds.save(
      validateEmbed({
        tenantId,
        embedId: tenant.embedId,
        resource: { type: 'dashboard', id: DEMO_DASHBOARD_ID },
        parameterModes: { dateRange: 'editable', channel: 'disabled' },
        allowedOrigins: [input.demoOrigin],
        maxTokenLifetimeSeconds: 600,
        enabled: true,
      }),
    );
    embedIds[tenantId] = tenant.embedId;
    log(`${tenantId}: dashboard ${DEMO_DASHBOARD_ID}, embed ${tenant.embedId} (framed by ${input.demoOrigin})`);
  }
  return { subs, rowCounts, embedIds };
}

/** Runs a create step; a `Conflict` means it already exists, which is what a re-seed expects. */
async function ignoreConflict<T>(step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof Conflict) return undefined;
    throw error;
  }
}

/** Where `npm run dev` records the endpoints of the running stack, for `npm run seed`. */
export const DEV_RUNTIME_FILE = resolve(import.meta.dirname, '..', '.local', 'dev-stack.json');

/** The running stack as recorded in `DEV_RUNTIME_FILE`. */
export interface DevRuntimeInfo {
  readonly dynamoEndpoint: string;
  readonly cognitoEndpoint: string;
  readonly secretsManagerEndpoint: string;
  readonly controlTableName: string;
  readonly dataTableName: string;
  readonly signingKeySecretPrefix: string;
  readonly rotationLambdaArn: string;
  readonly demoOrigin: string;
  readonly region: string;
}

/** `npm run seed`: re-applies the demo to the stack that `npm run dev` is running. */
async function main(): Promise<void> {
  let info: DevRuntimeInfo;
  try {
    info = JSON.parse(readFileSync(DEV_RUNTIME_FILE, 'utf8')) as DevRuntimeInfo;
  } catch {
    throw new Error(`No running dev stack found (${DEV_RUNTIME_FILE}); start one with npm run dev`);
  }
  const credentials = localCredentials();
  const client = new CognitoIdentityProviderClient({
    endpoint: info.cognitoEndpoint,
    region: info.region,
    credentials,
  });
  const cognito: LocalCognito = {
    endpoint: info.cognitoEndpoint,
    port: Number(new URL(info.cognitoEndpoint).port),
    dataDir: '',
    client,
    stop: async () => client.destroy(),
  };
  const dynamo = new DynamoDBClient({ endpoint: info.dynamoEndpoint, region: info.region, credentials });
  const documentClient = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const secrets = new SecretsManagerClient({ endpoint: info.secretsManagerEndpoint, region: info.region, credentials });
  try {
    const pool = await bootstrapUserPool(cognito);
    await seedDemo({
      cognito,
      pool,
      documentClient,
      controlTableName: info.controlTableName,
      dataTableName: info.dataTableName,
      secrets,
      signingKeySecretPrefix: info.signingKeySecretPrefix,
      rotationLambdaArn: info.rotationLambdaArn,
      demoOrigin: info.demoOrigin,
      log: (line) => console.log(`seed: ${line}`),
    });
    console.log('seed: done');
  } finally {
    client.destroy();
    dynamo.destroy();
    secrets.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
