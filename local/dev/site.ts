/**
 * The dev stack's own pages, beside the API the local gateway serves: `GET /health`, the demo
 * host apps and their config, the demo sign-in (`POST /demo-auth/login`), the SDK bundle and the
 * viewer assets. Each origin serves only its own pages and redirects the other's, so the demo can
 * never be opened same-origin with the viewer by accident.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import { webAssetPath, webContentType } from '../../web/build.ts';
import type { LocalUserPool } from '../cognito.ts';
import type { ExtraRoute } from '../gateway.ts';
import { RequestBodyTooLarge, readRequestBody } from '../http.ts';
import { DEMO_TENANTS } from '../seed.ts';
import type { DevStackUrls } from './stack.ts';

export interface SiteInput {
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

/** The routes and the static file handler the local gateway is given. */
export function createSiteRoutes(input: SiteInput): {
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
