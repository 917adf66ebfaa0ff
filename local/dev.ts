/**
 * `npm run dev`: the whole product on one machine, in one command, with no AWS account.
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
 * Programmatic use (tests, benchmarks): `startDevStack({ port: 0, quiet: true })`. The handlers
 * read their configuration once at import, so there is one dev stack per process.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { decodeJwt } from 'jose';
import { ENV } from '../lib/functions.ts';
import { VIEWER_ROUTES } from '../lib/routes.ts';
import { CONTROL_TABLE, DATA_TABLE, type KeyDesign } from '../lib/table-design.ts';
import { buildWeb, DEFAULT_WEB_OUT_DIR, webAssetPath, webContentType } from '../web/build.ts';
import {
  bootstrapUserPool,
  type LocalCognito,
  type LocalUserPool,
  type LoginTokens,
  startCognitoLocal,
} from './cognito.ts';
import { createTable, freePort, type LocalDynamo, localCredentials, startDynamoLocal } from './dynamodb.ts';
import { applyLocalHandlerEnv, localHandlerEnv } from './env.ts';
import { type ExtraRoute, type GatewayLogEntry, type LocalGateway, startLocalGateway } from './gateway.ts';
import { RequestBodyTooLarge, readRequestBody } from './http.ts';
import { type LocalSecretsManager, startLocalSecretsManager } from './secrets-manager.ts';
import { DEMO_TENANTS, DEMO_USERS, type DemoUser, DEV_RUNTIME_FILE, type DevRuntimeInfo, seedDemo } from './seed.ts';
import { type LocalSts, startLocalSts } from './sts.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
/** Default on-disk state directory for `--persist`. */
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.local', 'dev-state');
export const DEFAULT_DEV_PORT = 4000;
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
    const started = Date.now();
    const webOutDir = resolve(options.webOutDir ?? DEFAULT_WEB_OUT_DIR);
    const tablePrefix = options.tablePrefix ?? `secure-embed-${STAGE}`;
    // Independent pieces start in parallel; each registers its stopper as soon as it is up.
    const [dynamo, cognito, sts, secretsManager] = await Promise.all([
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
          const rotation = await import('../functions/handlers/rotate-signing-key.ts');
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
    ]);

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

    const _control = { client: documentClient, tableName: controlTableName };
    const site = createSiteRoutes({
      port,
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
    info(banner(stack, { stateDir, seconds: (Date.now() - started) / 1000 }));
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

// ---------------------------------------------------------------------------------------------
// The site: health, demo login, demo config, viewer page, static bundles
// ---------------------------------------------------------------------------------------------

interface SiteInput {
  readonly port: number;
  readonly urls: DevStackUrls;
  readonly webOutDir: string;
  readonly pool: LocalUserPool;
  readonly isReady: () => boolean;
}

/** Demo paths served from the demo origin, and the embed each demo app shows. */
const DEMO_APPS: ReadonlyArray<{ readonly prefix: string; readonly embedId: string }> = [
  { prefix: '/demo/globex/', embedId: DEMO_TENANTS.globex.embedId },
  { prefix: '/demo/', embedId: DEMO_TENANTS.acme.embedId },
];

function createSiteRoutes(input: SiteInput): {
  routes: ExtraRoute[];
  serveStatic: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
} {
  const { urls } = input;
  const viewerHost = new URL(urls.viewerOrigin).host;
  const demoHost = new URL(urls.demoOrigin).host;
  const hostOf = (request: IncomingMessage) => (request.headers.host ?? '').toLowerCase();
  const pathOf = (request: IncomingMessage) => new URL(request.url ?? '/', urls.viewerOrigin).pathname;

  /** Sends a request that arrived on the wrong host to the same path on the right origin. */
  const redirectTo = (origin: string, request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(302, { location: `${origin}${request.url ?? '/'}`, 'cache-control': 'no-store' });
    response.end();
  };
  /** True when answered by a redirect, i.e. the request came to the other origin's host. */
  const onlyOn = (host: string, origin: string, request: IncomingMessage, response: ServerResponse): boolean => {
    if (hostOf(request) === host) return false;
    redirectTo(origin, request, response);
    return true;
  };

  const routes: ExtraRoute[] = [
    {
      method: 'GET',
      path: '/health',
      handle: (_request, response) => {
        const ready = input.isReady();
        sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'starting' });
      },
    },
    {
      method: 'GET',
      path: '/',
      handle: (_request, response) => {
        response.writeHead(302, { location: urls.demo, 'cache-control': 'no-store' });
        response.end();
      },
    },
    {
      method: 'POST',
      path: '/demo-auth/login',
      handle: (request, response) => demoLogin(input.pool, request, response),
    },
    {
      method: 'GET',
      path: /^\/demo\/(?:globex\/)?config\.json$/,
      handle: (request, response) => {
        if (onlyOn(demoHost, urls.demoOrigin, request, response)) return;
        const path = pathOf(request);
        const app = DEMO_APPS.find((candidate) => path.startsWith(candidate.prefix));
        sendJson(response, 200, {
          apiBaseUrl: urls.api,
          embedId: app?.embedId ?? DEMO_TENANTS.acme.embedId,
          cognito: {
            userPoolId: input.pool.userPoolId,
            clientId: input.pool.clientId,
            endpoint: new URL(input.pool.issuer).origin,
          },
        });
      },
    },
    {
      // The viewer belongs to the viewer origin: on the demo origin it would share the host app's origin.
      method: 'GET',
      host: demoHost,
      path: /^\/embed\//,
      handle: (request, response) => redirectTo(urls.viewerOrigin, request, response),
    },
    {
      // The viewer's bundle, straight from the (watched) build folder so a rebuild shows at once;
      // the page itself is served by the viewer Lambda handler through the gateway's public routes.
      method: 'GET',
      path: /^\/assets\/viewer\/[^/]+$/,
      handle: async (request, response) => {
        if (onlyOn(viewerHost, urls.viewerOrigin, request, response)) return;
        await sendAsset(
          request,
          response,
          `viewer/${pathOf(request).slice('/assets/viewer/'.length)}`,
          input.webOutDir,
        );
      },
    },
  ];

  const serveStatic = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = pathOf(request);
    let asset: string | undefined;
    if (path.startsWith('/sdk/')) {
      asset = path.slice(1);
    } else if (path === '/demo' || path === '/demo/globex') {
      // The pages load their scripts relative to the directory, so the trailing slash matters.
      response.writeHead(302, { location: `${urls.demoOrigin}${path}/`, 'cache-control': 'no-store' });
      response.end();
      return true;
    } else if (path.startsWith('/demo/')) {
      if (onlyOn(demoHost, urls.demoOrigin, request, response)) return true;
      const app = DEMO_APPS.find((candidate) => path.startsWith(candidate.prefix));
      const rest = path.slice(app?.prefix.length ?? '/demo/'.length) || 'index.html';
      asset = `demo/${rest}`;
    } else {
      return false;
    }
    await sendAsset(request, response, asset, input.webOutDir);
    return true;
  };

  return { routes, serveStatic };
}

/** Sends one built web asset (404 for anything outside the build folder), never cached: it is rebuilt on change. */
async function sendAsset(
  request: IncomingMessage,
  response: ServerResponse,
  asset: string,
  webOutDir: string,
): Promise<void> {
  const file = webAssetPath(asset, webOutDir);
  const type = file ? webContentType(file) : undefined;
  let body: Buffer;
  try {
    if (!file || !type) throw new Error('not a served asset');
    body = await readFile(file);
  } catch {
    sendJson(response, 404, { code: 'NOT_FOUND', message: 'No such file.' });
    return;
  }
  response.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/**
 * `POST /demo-auth/login` `{ username, password }` → `200 { idToken, accessToken, expiresIn }` or
 * `{ code, message }`: the demo app's stand-in for a host app's own sign-in (Cognito
 * USER_PASSWORD_AUTH against cognito-local). Wrong username and wrong password answer alike.
 */
async function demoLogin(pool: LocalUserPool, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let credentials: { username?: unknown; password?: unknown };
  try {
    credentials = JSON.parse((await readRequestBody(request, 16 * 1024)).toString('utf8')) ?? {};
  } catch (error) {
    const tooLarge = error instanceof RequestBodyTooLarge;
    sendJson(response, tooLarge ? 413 : 400, {
      code: 'VALIDATION_FAILED',
      message: tooLarge ? 'The request body is too large.' : 'The body must be JSON.',
    });
    return;
  }
  const { username, password } = credentials;
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    sendJson(response, 400, { code: 'VALIDATION_FAILED', message: 'username and password are required.' });
    return;
  }
  try {
    const tokens = await pool.login(username, password);
    const exp = decodeJwt(tokens.idToken).exp;
    const expiresIn = typeof exp === 'number' ? Math.max(0, exp - Math.floor(Date.now() / 1000)) : 3600;
    sendJson(response, 200, { idToken: tokens.idToken, accessToken: tokens.accessToken, expiresIn });
  } catch (error) {
    if (error instanceof Error && REFUSED_LOGIN.has(error.name)) {
      sendJson(response, 401, { code: 'UNAUTHENTICATED', message: 'Incorrect username or password.' });
      return;
    }
    console.error(`dev: demo login failed: ${error instanceof Error ? error.message : error}`);
    sendJson(response, 502, { code: 'DEPENDENCY_UNAVAILABLE', message: 'The sign-in service is unavailable.' });
  }
}

/**
 * Exceptions meaning "wrong username or password". Cognito says NotAuthorizedException (or
 * UserNotFoundException without user-existence protection); cognito-local says
 * InvalidPasswordException for a wrong password.
 */
const REFUSED_LOGIN: ReadonlySet<string> = new Set([
  'NotAuthorizedException',
  'UserNotFoundException',
  'InvalidPasswordException',
]);

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
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

function banner(stack: DevStack, run: { stateDir: string | undefined; seconds: number }): string {
  const { urls, services } = stack;
  const width = Math.max(...stack.users.map((user) => user.username.length));
  const users = stack.users.map(
    (user) =>
      `    ${user.username.padEnd(width)}  ${user.password.padEnd(18)}  ${user.tenantId.padEnd(7)} ${user.role}`,
  );
  return [
    '',
    `secure-embed dev stack ready in ${run.seconds.toFixed(1)} s (${run.stateDir ? `state in ${run.stateDir}` : 'in-memory state'})`,
    '',
    `  Demo host app (acme)    ${urls.demo}          origin ${urls.demoOrigin}`,
    `  Demo host app (globex)  ${urls.globexDemo}`,
    `  Viewer                  ${urls.viewerBase}/embed/<tenantId>/<embedId>   origin ${urls.viewerOrigin}`,
    `  API                     ${urls.api}/v1/…   (CORS: ${urls.demoOrigin})`,
    `  Health                  ${urls.health}`,
    `  Embeds                  ${Object.entries(stack.embedIds)
      .map(([tenant, id]) => `${id} (${tenant})`)
      .join(', ')}`,
    '',
    '  Demo users (passwords are public and for this local demo only):',
    ...users,
    '',
    `  DynamoDB Local ${services.dynamoEndpoint} · cognito-local ${services.cognitoEndpoint} (pool ${services.userPoolId})`,
    `  Secrets Manager ${services.secretsManagerEndpoint} · STS ${services.stsEndpoint}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<void> {
  // Development runs on whatever Node the machine has; the SDK's advice to move to Node 22 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      [
        'Usage: npm run dev [-- --persist] [-- --state-dir <dir>]',
        '',
        '  --persist            keep state on disk under .local/dev-state (also: EMBED_DEV_STATE_DIR=<dir>)',
        '  --state-dir <dir>    keep state on disk in <dir>',
        '  EMBED_DEV_PORT=<n>   port on 127.0.0.1 (default 4000)',
      ].join('\n'),
    );
    return;
  }
  const stateDirIndex = argv.indexOf('--state-dir');
  const stateDir =
    stateDirIndex >= 0
      ? argv[stateDirIndex + 1]
      : process.env.EMBED_DEV_STATE_DIR || (argv.includes('--persist') ? DEFAULT_STATE_DIR : undefined);
  if (stateDirIndex >= 0 && !stateDir) throw new Error('--state-dir needs a directory');

  // Signals that arrive while starting must still stop what has started.
  let stack: DevStack | undefined;
  let stopRequested = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      console.log(`dev: ${signal} again; still stopping (children are killed within a few seconds)`);
      return;
    }
    stopRequested = true;
    console.log(`\ndev: ${signal}, stopping…`);
    // Still starting: main() stops what has started once startDevStack settles.
    if (!stack) return;
    // A stuck child must not keep the terminal forever.
    setTimeout(() => {
      console.error('dev: shutdown timed out');
      process.exit(1);
    }, 15_000).unref();
    void stack.stop().then(() => {
      console.log('dev: stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    stack = await startDevStack({
      ...(stateDir ? { stateDir } : {}),
      watchWeb: true,
      writeRuntimeFile: true,
    });
  } catch (error) {
    // startDevStack has already stopped whatever it had started.
    if (stopRequested) process.exit(0);
    throw error;
  }
  if (stopRequested) {
    await stack.stop();
    console.log('dev: stopped');
    process.exit(0);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`dev: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    process.exit(1);
  });
}
