/**
 * The dev stack behind `npm run dev`: the whole product on one machine, with no AWS account.
 *
 * It starts DynamoDB Local (tables from `lib/table-design.ts`), cognito-local (pool, app client,
 * groups, custom attributes), the local Secrets Manager (RotateSecret runs the real rotation
 * handler in this process), local STS and the local API gateway serving the real handlers from
 * `lib/routes.ts`, builds the viewer, SDK and demo host app with `buildWeb`, seeds the demo
 * (`local/seed.ts`) and serves everything from ONE port on 127.0.0.1:
 *
 *   http://127.0.0.1:<port>   viewer origin: `GET /embed/{tenantId}/{embedId}` (and `/embed/{embedId}`),
 *                             `/viewer/*` assets, the API
 *                             (`/v1/...`), `/health`
 *   http://localhost:<port>   demo host app origin: `/demo/` (acme), `/demo/globex/` (globex),
 *                             `/demo/config.json`, `POST /demo-auth/login`, `/sdk/*`
 *
 * Both names reach the same server, but a browser treats them as two origins, so the demo app
 * frames the viewer cross-origin exactly as a customer's app would: the postMessage origin
 * checks, the CSP `frame-ancestors` of the viewer page and the API's CORS allowlist are all real.
 * Each origin only serves its own pages (the other host is redirected), so the demo can never be
 * opened same-origin with the viewer by accident.
 *
 * This module orchestrates: it starts and stops the services and the gateway. The site's own
 * routes are in `site.ts`; the CLI (`local/dev.ts`) adds argument parsing, signals and the banner.
 *
 * Programmatic use (tests, benchmarks): `startDevStack({ port: 0, quiet: true })`. The handlers
 * read their configuration once at import, so there is one dev stack per process.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { ENV } from '../../lib/functions.ts';
import { VIEWER_ROUTES } from '../../lib/routes.ts';
import { CONTROL_TABLE, DATA_TABLE, type KeyDesign } from '../../lib/table-design.ts';
import { buildWeb, DEFAULT_WEB_OUT_DIR } from '../../web/build.ts';
import { bootstrapUserPool, type LocalCognito, type LoginTokens, startCognitoLocal } from '../cognito.ts';
import { createTable, freePort, type LocalDynamo, localCredentials, startDynamoLocal } from '../dynamodb.ts';
import { applyLocalHandlerEnv, localHandlerEnv } from '../env.ts';
import { type GatewayLogEntry, type LocalGateway, startLocalGateway } from '../gateway.ts';
import { type LocalSecretsManager, startLocalSecretsManager } from '../secrets-manager.ts';
import { DEMO_USERS, type DemoUser, DEV_RUNTIME_FILE, type DevRuntimeInfo, seedDemo } from '../seed.ts';
import { type LocalSts, startLocalSts } from '../sts.ts';
import { createSiteRoutes } from './site.ts';

const DEFAULT_DEV_PORT = 4000;
const REGION = 'us-east-1';
const STAGE = 'local';

export interface DevStackOptions {
  /** Port on 127.0.0.1: `EMBED_DEV_PORT` or 4000 by default; 0 picks a free one. */
  readonly port?: number;
  /** Only errors are written (tests, benchmarks). */
  readonly quiet?: boolean;
  /** On-disk state (DynamoDB, cognito-local, secrets) in this directory; in memory when absent. */
  readonly stateDir?: string;
  /** Where the web bundles are built: `.local/web` by default; tests pass a temporary directory. */
  readonly webOutDir?: string;
  /** Rebuild the web bundles when `web/` changes (the CLI turns it on). */
  readonly watchWeb?: boolean;
  /** Powertools log level of the in-process handlers; `ERROR` when quiet, else `INFO`. */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Use this already running DynamoDB Local instead of starting one (tests reuse the one of the
   * vitest global setup, which saves a JVM start). Its tables are then named with `tablePrefix`.
   */
  readonly dynamoEndpoint?: string;
  /** Table names are `<tablePrefix>-control` / `-data`; default `secure-embed-local`. */
  readonly tablePrefix?: string;
  /** Record the running endpoints in `.local/dev-stack.json` for `npm run seed` (the CLI does). */
  readonly writeRuntimeFile?: boolean;
}

/** Where everything is served. */
export interface DevStackUrls {
  /** `http://127.0.0.1:<port>`: viewer page, viewer assets and the API. */
  readonly viewerOrigin: string;
  /** `http://localhost:<port>`: the demo host app (a different origin on the same server). */
  readonly demoOrigin: string;
  /** Base of the embed API, e.g. `<api>/v1/embed/query`. */
  readonly api: string;
  /** Embed URLs are `<viewerBase>/embed/<tenantId>/<embedId>#token=…`. */
  readonly viewerBase: string;
  /** The acme demo host app (login page). */
  readonly demo: string;
  /** The globex demo host app (same pages, the globex embed). */
  readonly globexDemo: string;
  readonly health: string;
}

/** A running dev stack. */
export interface DevStack {
  readonly port: number;
  readonly urls: DevStackUrls;
  /** The demo users with their (public, demo-only) passwords. */
  readonly users: readonly DemoUser[];
  /** Cognito `sub` of each demo user. */
  readonly subs: Readonly<Record<string, string>>;
  /** The sales embed of each tenant, e.g. `{ acme: 'acme-sales', globex: 'globex-sales' }`. */
  readonly embedIds: Readonly<Record<string, string>>;
  readonly services: {
    readonly dynamoEndpoint: string;
    readonly cognitoEndpoint: string;
    readonly secretsManagerEndpoint: string;
    readonly stsEndpoint: string;
    readonly userPoolId: string;
    readonly clientId: string;
    readonly controlTableName: string;
    readonly dataTableName: string;
  };
  /** The local STS: every AssumeRole (tenant session tags) is recorded there. */
  readonly sts: LocalSts;
  /** The handler environment in effect (`process.env` carries it too). */
  readonly env: Readonly<Record<string, string>>;
  /** USER_PASSWORD_AUTH against the demo pool (what `POST /demo-auth/login` does). */
  login(username: string, password: string): Promise<LoginTokens>;
  /** Closes the servers and stops every child process; safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts the whole stack; resolves once `GET /health` answers 200. */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const quiet = options.quiet ?? false;
  const info = (line: string) => {
    if (!quiet) console.log(line);
  };
  const requested = options.port ?? Number(process.env.EMBED_DEV_PORT ?? DEFAULT_DEV_PORT);
  if (!Number.isInteger(requested) || requested < 0 || requested > 65_535) {
    throw new Error(`EMBED_DEV_PORT must be a TCP port, not "${process.env.EMBED_DEV_PORT}"`);
  }
  // The port is fixed before anything starts: both origins, the embeds' allowed origins, CORS
  // and the handlers' VIEWER_BASE_URL all carry it.
  const port = requested === 0 ? await freePort() : requested;
  const viewerOrigin = `http://127.0.0.1:${port}`;
  const demoOrigin = `http://localhost:${port}`;
  const urls: DevStackUrls = {
    viewerOrigin,
    demoOrigin,
    api: viewerOrigin,
    viewerBase: viewerOrigin,
    demo: `${demoOrigin}/demo/`,
    globexDemo: `${demoOrigin}/demo/globex/`,
    health: `${viewerOrigin}/health`,
  };

  const stateDir = options.stateDir ? resolve(options.stateDir) : undefined;
  if (stateDir) {
    mkdirSync(join(stateDir, 'dynamodb'), { recursive: true });
    mkdirSync(join(stateDir, 'cognito'), { recursive: true });
  }

  // Everything started so far, stopped in reverse order on failure or on stop().
  const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const { name, stop: stopOne } of stoppers.reverse()) {
        try {
          await stopOne();
        } catch (error) {
          console.error(`dev: stopping ${name} failed: ${error instanceof Error ? error.message : error}`);
        }
      }
    })();
    return stopping;
  };

  let ready = false;
  try {
    const webOutDir = resolve(options.webOutDir ?? DEFAULT_WEB_OUT_DIR);
    const tablePrefix = options.tablePrefix ?? `secure-embed-${STAGE}`;
    // Independent pieces start in parallel; each registers its stopper as soon as it is up.
    const starting = [
      options.dynamoEndpoint
        ? Promise.resolve({ endpoint: options.dynamoEndpoint })
        : startDynamoLocal(stateDir ? { dbPath: join(stateDir, 'dynamodb') } : {}).then((d: LocalDynamo) => {
            stoppers.push({ name: 'DynamoDB Local', stop: d.stop });
            return d;
          }),
      startCognitoLocal(stateDir ? { dataDir: join(stateDir, 'cognito') } : {}).then((c: LocalCognito) => {
        stoppers.push({ name: 'cognito-local', stop: c.stop });
        return c;
      }),
      startLocalSts().then((s) => {
        stoppers.push({ name: 'local STS', stop: s.close });
        return s;
      }),
      startLocalSecretsManager({
        region: REGION,
        ...(stateDir ? { stateFile: join(stateDir, 'secrets-manager.json') } : {}),
        // The real rotation Lambda, in this process. Imported on first use: by then the handler
        // environment (table names, this endpoint) is in place, which it reads at import.
        rotationHandler: async (event) => {
          const rotation = await import('../../functions/handlers/rotate-signing-key.ts');
          await rotation.handler(event as SecretsManagerRotationEvent);
        },
        onRotationFailure: (error, event) =>
          console.error(
            `dev: rotation step ${event.Step} failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
      }).then((s: LocalSecretsManager) => {
        stoppers.push({ name: 'local Secrets Manager', stop: s.close });
        return s;
      }),
      buildWeb({
        outDir: webOutDir,
        ...(options.watchWeb
          ? {
              watch: true,
              // The initial build is part of the start; only later rebuilds are news.
              onRebuild: ({ errors }: { errors: number }) => {
                if (errors) console.error(`dev: web rebuild failed (${errors} errors)`);
                else if (ready) info('dev: web rebuilt');
              },
            }
          : {}),
      }).then((build) => {
        stoppers.push({ name: 'web build', stop: build.stop });
        return build;
      }),
    ] as const;
    // When one fails, the others are still waited for, so that stop() reaches every one of them.
    await Promise.allSettled(starting);
    const [dynamo, cognito, sts, secretsManager] = await Promise.all(starting);

    const pool = await bootstrapUserPool(cognito);
    const env = localHandlerEnv({
      dynamoEndpoint: dynamo.endpoint,
      userPoolId: pool.userPoolId,
      cognitoEndpoint: cognito.endpoint,
      secretsManagerEndpoint: secretsManager.endpoint,
      stsEndpoint: sts.endpoint,
      allowedOrigins: [demoOrigin],
      viewerBaseUrl: viewerOrigin,
      stage: STAGE,
      region: REGION,
      controlTableName: `${tablePrefix}-control`,
      dataTableName: `${tablePrefix}-data`,
      logLevel: options.logLevel ?? (quiet ? 'ERROR' : 'INFO'),
    });
    const controlTableName = env[ENV.controlTableName] as string;
    const dataTableName = env[ENV.dataTableName] as string;

    const credentials = localCredentials();
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials });
    const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const secrets = new SecretsManagerClient({ endpoint: secretsManager.endpoint, region: REGION, credentials });
    stoppers.push({
      name: 'SDK clients',
      stop: async () => {
        dynamoClient.destroy();
        secrets.destroy();
      },
    });
    await Promise.all([
      ensureTable(dynamoClient, controlTableName, CONTROL_TABLE),
      ensureTable(dynamoClient, dataTableName, DATA_TABLE),
    ]);

    const handlerEnv: Record<string, string> = {
      ...env,
      USER_POOL_CLIENT_ID: pool.clientId,
      VIEWER_ASSETS_DIR: join(webOutDir, 'viewer'),
    };
    // Before any handler module is imported: they read their configuration at cold start.
    applyLocalHandlerEnv(handlerEnv);

    const site = createSiteRoutes({
      urls,
      webOutDir,
      pool,
      isReady: () => ready,
    });
    const gateway: LocalGateway = await startLocalGateway({
      port,
      auth: { issuer: pool.issuer, clientIds: [pool.clientId], jwksUrl: pool.jwksUrl },
      allowedOrigins: [demoOrigin],
      extraRoutes: site.routes,
      // The embed viewer page: the same Lambda handler and public route table as the ViewerRestApi.
      publicRoutes: VIEWER_ROUTES,
      staticHandler: site.serveStatic,
      stage: STAGE,
      log: accessLog(quiet),
    });
    stoppers.push({ name: 'gateway', stop: gateway.close });

    const seeded = await seedDemo({
      cognito,
      pool,
      documentClient,
      controlTableName,
      dataTableName,
      secrets,
      signingKeySecretPrefix: env[ENV.signingKeySecretPrefix] as string,
      rotationLambdaArn: env[ENV.rotationLambdaArn] as string,
      demoOrigin,
      log: (line) => info(`seed: ${line}`),
    });

    if (options.writeRuntimeFile) {
      const runtime: DevRuntimeInfo = {
        dynamoEndpoint: dynamo.endpoint,
        cognitoEndpoint: cognito.endpoint,
        secretsManagerEndpoint: secretsManager.endpoint,
        controlTableName,
        dataTableName,
        signingKeySecretPrefix: env[ENV.signingKeySecretPrefix] as string,
        rotationLambdaArn: env[ENV.rotationLambdaArn] as string,
        demoOrigin,
        region: REGION,
      };
      mkdirSync(resolve(DEV_RUNTIME_FILE, '..'), { recursive: true });
      writeFileSync(DEV_RUNTIME_FILE, `${JSON.stringify(runtime, null, 2)}\n`);
      stoppers.push({ name: 'runtime file', stop: async () => rmSync(DEV_RUNTIME_FILE, { force: true }) });
    }

    ready = true;
    const stack: DevStack = {
      port,
      urls,
      users: DEMO_USERS,
      subs: seeded.subs,
      embedIds: seeded.embedIds,
      services: {
        dynamoEndpoint: dynamo.endpoint,
        cognitoEndpoint: cognito.endpoint,
        secretsManagerEndpoint: secretsManager.endpoint,
        stsEndpoint: sts.endpoint,
        userPoolId: pool.userPoolId,
        clientId: pool.clientId,
        controlTableName,
        dataTableName,
      },
      sts,
      env: handlerEnv,
      login: (username, password) => pool.login(username, password),
      stop,
    };
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Creates a table unless it exists. On-disk state (`--persist`) already has its tables, and
 * `createTable` re-enabling TTL on an existing table is refused by DynamoDB Local
 * ("TimeToLive is already enabled"), so existing tables are left as they are.
 */
async function ensureTable(client: DynamoDBClient, tableName: string, design: KeyDesign): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await createTable(client, tableName, design);
}

/** One line per request while developing; only failures when quiet. */
function accessLog(quiet: boolean): (entry: GatewayLogEntry) => void {
  return (entry) => {
    if (entry.error !== undefined) {
      const reason = entry.error instanceof Error ? (entry.error.stack ?? entry.error.message) : String(entry.error);
      console.error(`[gateway] ${entry.method} ${entry.path} -> ${entry.status}: ${reason}`);
      return;
    }
    if (quiet || entry.path === '/health') return;
    console.log(`[gateway] ${entry.method} ${entry.path} ${entry.status} ${entry.durationMs} ms`);
  };
}
