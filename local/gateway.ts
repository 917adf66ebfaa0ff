/**
 * Development stand-in: a local API Gateway (REST API, Lambda proxy integration, Cognito user
 * pools authorizer) serving the routes of `lib/routes.ts` with the real handler modules
 * (`functions/handlers/<function>.ts`, export `handler`) in-process. Not used in AWS.
 *
 * What it emulates, and why each piece matters for local/deployed parity (the deployed shape is
 * `lib/constructs/embed-rest-api.ts`):
 * - Authentication like the Cognito authorizer: the raw token in `Authorization` (no `Bearer `
 *   prefix, as the REST authorizer expects), RS256 signature against the pool's JWKS, issuer,
 *   expiry, `token_use: "id"`. It also pins `aud` to the product's app client(s), which is
 *   stricter than API Gateway (that accepts any client of the pool). Groups are NOT checked
 *   here — API Gateway's Cognito authorizer does not check them either, so the handlers must.
 * - The proxy event as API Gateway builds it, including `requestContext.authorizer.claims` with
 *   every value a string: numbers as decimal strings, booleans as "true"/"false", `exp`/`iat` as
 *   Java `Date#toString()` text ("Tue Apr 04 18:39:39 UTC 2023"), and list claims such as
 *   `cognito:groups` joined with commas ("embed-signers,tenant-admins"), which is what REST APIs
 *   put there (HTTP APIs' JWT authorizer would render "[a b]" instead).
 * - Gateway-made answers with the stack's gateway-response bodies: 401 and the request-body
 *   validator's 400 as `{ code, message, requestId }`, 5xx (502 handler failure, 504 integration
 *   timeout) as `INTERNAL_ERROR`. Unknown path 404 / known path with another method 405 carry API
 *   Gateway's message `{ "message": "Missing Authentication Token", requestId }` (API Gateway
 *   says 403 for both; distinct statuses are friendlier while developing); 413 above 10 MB. The
 *   `requestId` of every such body is the one sent as `x-amzn-requestid` (and handed to the
 *   handlers as `requestContext.requestId`), as `$context.requestId` is in the stack.
 * - CORS as the stack does it: preflights (unauthenticated mock methods) answer allowed origins
 *   only, with the resource's methods; handler responses pass through untouched because the
 *   handlers set their own CORS headers; gateway-made answers carry none (the stack's gateway
 *   responses set none), unless `corsOnGatewayResponses` is on.
 *
 * - Public routes (`publicRoutes`, e.g. `VIEWER_ROUTES`) as the stack's `ViewerRestApi` serves
 *   them: no authorizer (the event has `requestContext.authorizer: null`), no preflights.
 *
 * Handlers run in this process and read `process.env` at cold start, so set the local
 * configuration (`localHandlerEnv` in `local/env.ts`) before the first request.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { FUNCTION_SPECS } from '../lib/functions.ts';
import { type ApiFunctionName, type PublicRoute, ROUTES, type Route, type ViewerFunctionName } from '../lib/routes.ts';
import { closeServer, listenOnLoopback, RequestBodyTooLarge, readRequestBody } from './http.ts';

/** A route of either table: the authorized API (`ROUTES`) or a public one (`VIEWER_ROUTES`). */
type AnyRoute = Route | PublicRoute;
type GatewayFunctionName = ApiFunctionName | ViewerFunctionName;

/** A Lambda proxy handler as the handler modules export it. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** How tokens are verified: the values of a bootstrapped cognito-local pool. */
export interface GatewayAuthOptions {
  /** `iss` of the pool, e.g. `http://127.0.0.1:9229/local_abc`. */
  readonly issuer: string;
  /** The app client id(s) an ID token's `aud` must be. */
  readonly clientIds: readonly string[];
  /** The pool's JWKS URL (fetched on demand and cached), or… */
  readonly jwksUrl?: string;
  /** …the key set itself. */
  readonly jwks?: JSONWebKeySet;
}

/** A route served before the API routes (config endpoints, dev helpers). */
export interface ExtraRoute {
  readonly method: string;
  /** Exact path, or a pattern tested against the path. */
  readonly path: string | RegExp;
  /** Only for requests whose Host header is this (one server, several local origins). */
  readonly host?: string;
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}

/** One line of the access log. */
export interface GatewayLogEntry {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly resource?: string;
  readonly error?: unknown;
}

export interface LocalGatewayOptions {
  /** Port on 127.0.0.1; a free one by default. */
  readonly port?: number;
  readonly auth: GatewayAuthOptions;
  /** Origins allowed to call the API from a browser (the stack's ALLOWED_ORIGINS). */
  readonly allowedOrigins: readonly string[];
  /** The route table; `ROUTES` by default. */
  readonly routes?: readonly Route[];
  /** Handlers by function (tests); by default each is imported from `functions/handlers/<fn>.ts`. */
  readonly handlers?: Partial<Record<ApiFunctionName, ProxyHandler>>;
  /**
   * Public routes (e.g. `VIEWER_ROUTES`), served like the stack's `ViewerRestApi`: no authorizer,
   * the REST proxy event carries no claims, no CORS preflights. Matched after `extraRoutes`.
   */
  readonly publicRoutes?: readonly PublicRoute[];
  /** Handlers of the public routes (tests); by default imported from `functions/handlers/<fn>.ts`. */
  readonly publicHandlers?: Partial<Record<ViewerFunctionName, ProxyHandler>>;
  readonly extraRoutes?: readonly ExtraRoute[];
  /** Called for paths that match no API route; returns true when it answered (static files). */
  readonly staticHandler?: (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>;
  /** Stage name in `requestContext`; API Gateway's path excludes it from `event.path`. */
  readonly stage?: string;
  /** API Gateway's payload limit is 10 MB. */
  readonly maxBodyBytes?: number;
  /** API Gateway's integration timeout is 29 s. */
  readonly integrationTimeoutMs?: number;
  /** Clock for token expiry and request times (tests). */
  readonly now?: () => Date;
  /** Adds `Access-Control-Allow-Origin` for allowed origins to gateway-made answers (401, 404, 5xx…). */
  readonly corsOnGatewayResponses?: boolean;
  /** Access log; by default only failed invocations are written to stderr. */
  readonly log?: (entry: GatewayLogEntry) => void;
}

/** A running local gateway. */
export interface LocalGateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const API_ID = 'localapi01';
const ACCOUNT_ID = '000000000000';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 29_000;
/** The stack's preflight: `CORS_ALLOW_HEADERS` and `maxAge` of `lib/constructs/embed-rest-api.ts`. */
export const CORS_PREFLIGHT = Object.freeze({ allowHeaders: ['Authorization', 'Content-Type'], maxAgeSeconds: 3600 });

/**
 * Bodies of the answers API Gateway itself makes, as the stack's gateway responses
 * (`addErrorResponses` in `lib/constructs/embed-rest-api.ts`) define them. Their templates also
 * carry `"requestId": "$context.requestId"`, which `reply` adds to each body here.
 */
export const GATEWAY_RESPONSES = Object.freeze({
  unauthorized: { code: 'UNAUTHENTICATED', message: 'Authentication is required.' },
  badRequestBody: { code: 'VALIDATION_FAILED', message: 'Invalid request: the body must be a JSON object.' },
  default5xx: { code: 'INTERNAL_ERROR', message: 'An internal error occurred.' },
  missingAuthenticationToken: { message: 'Missing Authentication Token' },
  requestTooLarge: { message: 'Request Too Long' },
});

/** Methods whose JSON body the stack validates against its JSON-object model. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const HANDLERS_DIR = new URL('../functions/handlers/', import.meta.url);

/** Thrown for every authentication failure; the caller only ever sees "Unauthorized". */
class Unauthorized extends Error {}

/** Starts the local gateway on 127.0.0.1. */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const routes = compileRoutes(options.routes ?? ROUTES);
  const publicRoutes = compileRoutes(options.publicRoutes ?? []);
  const verifyToken = tokenVerifier(options.auth, options.now);
  const allowedOrigins = new Set(options.allowedOrigins);
  const handlerCache = new Map<GatewayFunctionName, Promise<ProxyHandler>>();
  const stage = options.stage ?? 'local';
  const now = () => options.now?.() ?? new Date();
  const log =
    options.log ??
    ((entry: GatewayLogEntry) => {
      if (entry.error !== undefined) {
        process.stderr.write(
          `[gateway] ${entry.method} ${entry.path} -> ${entry.status}: ${describeError(entry.error)}\n`,
        );
      }
    });

  const loadHandler = (fn: GatewayFunctionName): Promise<ProxyHandler> => {
    const given = fn === 'viewer' ? options.publicHandlers : options.handlers;
    const provided = given?.[fn as keyof typeof given];
    if (provided) return Promise.resolve(provided);
    if (given) return Promise.reject(new Error(`No handler given for function ${fn}`));
    let loading = handlerCache.get(fn);
    if (!loading) {
      loading = import(new URL(`${fn}.ts`, HANDLERS_DIR).href).then((module: { handler?: unknown }) => {
        if (typeof module.handler !== 'function') throw new Error(`functions/handlers/${fn}.ts exports no handler`);
        return module.handler as ProxyHandler;
      });
      // A failed import (syntax error while editing) is retried on the next request.
      loading.catch(() => handlerCache.delete(fn));
      handlerCache.set(fn, loading);
    }
    return loading;
  };

  const serve = async (request: IncomingMessage, response: ServerResponse, requestId: string) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = (request.method ?? 'GET').toUpperCase();
    const origin = headerValue(request, 'origin');
    const corsOrigin = origin !== undefined && allowedOrigins.has(origin) ? origin : undefined;
    const gatewayCors = options.corsOnGatewayResponses ? corsHeaders(corsOrigin) : {};
    const reply = (status: number, body: object | undefined, headers: Record<string, string> = {}) => {
      sendJson(response, status, body && { ...body, requestId }, {
        'x-amzn-requestid': requestId,
        ...gatewayCors,
        ...headers,
      });
      return { status };
    };

    const extra = options.extraRoutes?.find(
      (r) =>
        r.method.toUpperCase() === method &&
        (r.host === undefined || r.host === request.headers.host) &&
        (typeof r.path === 'string' ? r.path === url.pathname : r.path.test(url.pathname)),
    );
    if (extra) {
      await extra.handle(request, response);
      return { status: response.statusCode };
    }

    const invoke = async (
      match: { route: AnyRoute; params: Record<string, string> },
      body: Buffer,
      claims: JWTPayload | undefined,
    ) => {
      const event = proxyEvent({
        request,
        url,
        route: match.route,
        pathParameters: match.params,
        body,
        claims,
        requestId,
        stage,
        received: now(),
      });
      const fn = match.route.function;
      const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
      // As in Lambda, the handler's remaining time is its own function timeout, not the gateway's.
      const context = lambdaContext(fn, requestId, Math.min(timeoutMs, FUNCTION_SPECS[fn].timeoutSeconds * 1000));
      let result: unknown;
      try {
        const handler = await loadHandler(fn);
        result = await withTimeout(handler(event, context), timeoutMs);
      } catch (error) {
        if (error instanceof IntegrationTimeout) {
          return { ...reply(504, GATEWAY_RESPONSES.default5xx), resource: match.route.path, error };
        }
        return { ...reply(502, GATEWAY_RESPONSES.default5xx), resource: match.route.path, error };
      }
      const mapped = mapResult(result);
      if (!mapped) {
        return {
          ...reply(502, GATEWAY_RESPONSES.default5xx),
          resource: match.route.path,
          error: new Error(`Malformed Lambda proxy response from ${fn}: ${safeJson(result)}`),
        };
      }
      response.statusCode = mapped.statusCode;
      response.setHeader('x-amzn-requestid', requestId);
      for (const [name, values] of Object.entries(mapped.headers)) response.setHeader(name, values);
      if (!response.hasHeader('content-type')) response.setHeader('content-type', 'application/json');
      response.setHeader('content-length', mapped.body.length);
      response.end(mapped.body);
      return { status: mapped.statusCode, resource: match.route.path };
    };

    // Public routes (the viewer API): no authorizer, no preflights; any other method is refused.
    const publicMatches = matchPath(publicRoutes, url.pathname);
    if (publicMatches.length > 0) {
      const publicMatch = publicMatches.find((m) => m.route.method === method);
      if (!publicMatch) {
        return reply(405, GATEWAY_RESPONSES.missingAuthenticationToken, {
          allow: [...new Set(publicMatches.map((m) => m.route.method))].join(', '),
          'x-amzn-errortype': 'MissingAuthenticationTokenException',
        });
      }
      let publicBody: Buffer;
      try {
        publicBody = await readRequestBody(request, options.maxBodyBytes ?? MAX_BODY_BYTES);
      } catch (error) {
        if (!(error instanceof RequestBodyTooLarge)) throw error;
        response.setHeader('connection', 'close');
        return { ...reply(413, GATEWAY_RESPONSES.requestTooLarge), resource: publicMatch.route.path };
      }
      return invoke(publicMatch, publicBody, undefined);
    }

    const matches = matchPath(routes, url.pathname);
    if (matches.length === 0) {
      if (options.staticHandler && (await options.staticHandler(request, response)))
        return { status: response.statusCode };
      return reply(404, GATEWAY_RESPONSES.missingAuthenticationToken, {
        'x-amzn-errortype': 'MissingAuthenticationTokenException',
      });
    }
    const methods = [...new Set(matches.map((m) => m.route.method))];
    if (method === 'OPTIONS') {
      if (!corsOrigin) return reply(204, undefined, { vary: 'Origin' });
      return reply(204, undefined, {
        'access-control-allow-origin': corsOrigin,
        'access-control-allow-methods': [...methods, 'OPTIONS'].join(','),
        'access-control-allow-headers': CORS_PREFLIGHT.allowHeaders.join(','),
        'access-control-max-age': String(CORS_PREFLIGHT.maxAgeSeconds),
        vary: 'Origin',
      });
    }
    const match = matches.find((m) => m.route.method === method);
    if (!match) {
      return reply(405, GATEWAY_RESPONSES.missingAuthenticationToken, {
        allow: methods.join(', '),
        'x-amzn-errortype': 'MissingAuthenticationTokenException',
      });
    }

    let body: Buffer;
    try {
      body = await readRequestBody(request, options.maxBodyBytes ?? MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof RequestBodyTooLarge) {
        response.setHeader('connection', 'close');
        return { ...reply(413, GATEWAY_RESPONSES.requestTooLarge), resource: match.route.path };
      }
      throw error;
    }

    let claims: JWTPayload;
    try {
      claims = await verifyToken(headerValue(request, 'authorization'));
    } catch (error) {
      if (!(error instanceof Unauthorized)) {
        // The JWKS could not be fetched: our failure, not the caller's.
        return { ...reply(500, GATEWAY_RESPONSES.default5xx), resource: match.route.path, error };
      }
      return {
        ...reply(401, GATEWAY_RESPONSES.unauthorized, { 'x-amzn-errortype': 'UnauthorizedException' }),
        resource: match.route.path,
      };
    }

    // The stack validates request bodies after the authorizer: a JSON object, except for imports.
    if (BODY_METHODS.has(method) && !match.route.path.endsWith('/imports') && !isJsonObjectBody(request, body)) {
      return {
        ...reply(400, GATEWAY_RESPONSES.badRequestBody, { 'x-amzn-errortype': 'BadRequestException' }),
        resource: match.route.path,
      };
    }

    return invoke(match, body, claims);
  };

  const server = createServer((request, response) => {
    const started = Date.now();
    const requestId = randomUUID();
    const finish = (outcome: { status: number; resource?: string; error?: unknown }) =>
      log({
        requestId,
        method: request.method ?? 'GET',
        path: (request.url ?? '/').split('?')[0] ?? '/',
        status: outcome.status,
        durationMs: Date.now() - started,
        ...(outcome.resource ? { resource: outcome.resource } : {}),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      });
    serve(request, response, requestId).then(finish, (error: unknown) => {
      if (!response.headersSent)
        sendJson(response, 500, { ...GATEWAY_RESPONSES.default5xx, requestId }, { 'x-amzn-requestid': requestId });
      else response.destroy();
      finish({ status: 500, error });
    });
  });
  // Bounded like API Gateway so a stuck client cannot hold a socket forever.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  const port = await listenOnLoopback(server, options.port);
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server) };
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

/** Verifies a Cognito ID token the way the Cognito user pools authorizer does. */
function tokenVerifier(auth: GatewayAuthOptions, now?: () => Date) {
  if (!auth.jwks && !auth.jwksUrl) throw new Error('The gateway needs auth.jwks or auth.jwksUrl');
  const keySet = auth.jwks ? createLocalJWKSet(auth.jwks) : createRemoteJWKSet(new URL(auth.jwksUrl as string));
  const audience = [...auth.clientIds];
  return async (header: string | undefined): Promise<JWTPayload> => {
    if (!header) throw new Unauthorized('missing token');
    try {
      const { payload } = await jwtVerify(header.trim(), keySet, {
        algorithms: ['RS256'],
        issuer: auth.issuer,
        audience,
        requiredClaims: ['exp', 'iat', 'sub', 'token_use'],
        ...(now ? { currentDate: now() } : {}),
      });
      if (payload.token_use !== 'id') throw new Unauthorized('not an ID token');
      return payload;
    } catch (error) {
      // Network failures fetching the JWKS are ours, not the caller's; surface them in the log.
      if (error instanceof Unauthorized || isJoseError(error)) throw new Unauthorized(String(error));
      throw error;
    }
  };
}

/** A jose verdict on the token itself (not a JWKS fetch timeout, which is our problem). */
function isJoseError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_J') && code !== 'ERR_JWKS_TIMEOUT';
}

/**
 * Claims as API Gateway (REST, Cognito authorizer) hands them to the integration: a flat map of
 * strings. Exported so handler tests can build the same shape from a decoded token.
 */
export function claimsAsApiGatewayRendersThem(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') claims[name] = javaDateString(value);
    else if (Array.isArray(value))
      claims[name] = value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
    else if (typeof value === 'object') claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}

/** `java.util.Date#toString()` in UTC, e.g. "Tue Apr 04 18:39:39 UTC 2023". */
function javaDateString(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

interface CompiledRoute {
  readonly route: AnyRoute;
  readonly segments: readonly string[];
  readonly literals: number;
}

function compileRoutes(routes: readonly AnyRoute[]): CompiledRoute[] {
  return routes.map((route) => {
    const segments = route.path.split('/').filter((s) => s.length > 0);
    return { route, segments, literals: segments.filter((s) => !s.startsWith('{')).length };
  });
}

/**
 * All routes whose resource path matches, most specific first: like API Gateway, a literal
 * segment wins over a `{param}` at the same position.
 */
function matchPath(
  routes: readonly CompiledRoute[],
  path: string,
): Array<{ route: AnyRoute; params: Record<string, string> }> {
  const parts = path.split('/').filter((s) => s.length > 0);
  const found: Array<{ route: AnyRoute; params: Record<string, string>; literals: number }> = [];
  for (const compiled of routes) {
    if (compiled.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    compiled.segments.forEach((segment, i) => {
      const part = parts[i] as string;
      if (segment.startsWith('{')) {
        try {
          params[segment.slice(1, -1)] = decodeURIComponent(part);
        } catch {
          ok = false;
        }
      } else if (segment !== part) ok = false;
    });
    if (ok) found.push({ route: compiled.route, params, literals: compiled.literals });
  }
  const best = Math.max(...found.map((f) => f.literals));
  return found.filter((f) => f.literals === best);
}

// ---------------------------------------------------------------------------------------------
// Event, context and result
// ---------------------------------------------------------------------------------------------

function proxyEvent(input: {
  request: IncomingMessage;
  url: URL;
  route: AnyRoute;
  pathParameters: Record<string, string>;
  body: Buffer;
  /** The verified token's claims; `undefined` on a public route (no authorizer). */
  claims: JWTPayload | undefined;
  requestId: string;
  stage: string;
  received: Date;
}): APIGatewayProxyEvent {
  const { request, url, route, received } = input;
  const multiValueHeaders: Record<string, string[]> = {};
  // rawHeaders keeps the client's casing, as API Gateway does.
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    const value = request.rawHeaders[i + 1] as string;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const sourceIp = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  const added: Record<string, string> = {
    'X-Forwarded-For': sourceIp,
    'X-Forwarded-Port': String(request.socket.localPort ?? ''),
    'X-Forwarded-Proto': 'http',
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(received.getTime() / 1000).toString(16)}-${input.requestId.replace(/-/g, '').slice(0, 24)}`,
  };
  for (const [name, value] of Object.entries(added)) multiValueHeaders[name] ??= [value];
  const headers = Object.fromEntries(
    Object.entries(multiValueHeaders).map(([name, values]) => [name, values.at(-1) as string]),
  );

  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) multiValueQuery[name] = [...(multiValueQuery[name] ?? []), value];
  const hasQuery = Object.keys(multiValueQuery).length > 0;
  const hasParams = Object.keys(input.pathParameters).length > 0;
  const userAgent = headerValue(request, 'user-agent') ?? null;

  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery
      ? Object.fromEntries(Object.entries(multiValueQuery).map(([name, values]) => [name, values.at(-1) as string]))
      : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: hasParams ? { ...input.pathParameters } : null,
    stageVariables: null,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      authorizer: input.claims ? { claims: claimsAsApiGatewayRendersThem(input.claims) } : null,
      domainName: headerValue(request, 'host') ?? '127.0.0.1',
      domainPrefix: API_ID,
      extendedRequestId: input.requestId.replace(/-/g, '').slice(0, 16),
      httpMethod: route.method,
      identity: restRequestIdentity(sourceIp, userAgent),
      path: `/${input.stage}${url.pathname}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId: input.requestId,
      requestTime: clfTime(received),
      requestTimeEpoch: received.getTime(),
      resourceId: resourceId(route.path),
      resourcePath: route.path,
      stage: input.stage,
    },
    // Without binary media types configured, REST APIs pass the body as text, never base64.
    body: input.body.length > 0 ? input.body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}

function lambdaContext(fn: GatewayFunctionName, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = `secure-embed-${fn}`;
  const unsupported = () => {
    throw new Error('Callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Maps a proxy result to status, headers and body bytes, or `undefined` when malformed (502). */
function mapResult(
  result: unknown,
): { statusCode: number; headers: Record<string, string[]>; body: Buffer } | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as Partial<APIGatewayProxyResult>;
  const statusCode = Number(r.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return undefined;
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return undefined;
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(r.headers ?? {})) headers[name.toLowerCase()] = [String(value)];
  // multiValueHeaders win over headers of the same name, as in API Gateway.
  for (const [name, values] of Object.entries(r.multiValueHeaders ?? {})) {
    if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String);
  }
  const text = r.body ?? '';
  const body = r.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode, headers, body };
}

class IntegrationTimeout extends Error {
  constructor(ms: number) {
    super(`The handler did not answer within ${ms} ms`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IntegrationTimeout(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

/**
 * What the stack's JSON-object model accepts. API Gateway picks the model by Content-Type and
 * treats a missing one as JSON; other content types have no model and pass unvalidated.
 */
function isJsonObjectBody(request: IncomingMessage, body: Buffer): boolean {
  const contentType = (headerValue(request, 'content-type') ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') return true;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

function corsHeaders(origin: string | undefined): Record<string, string> {
  return origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Common Log Format time, as `requestContext.requestTime`: "09/Apr/2015:12:34:56 +0000". */
function clfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

/** A stable, API-Gateway-looking resource id per resource path. */
function resourceId(path: string): string {
  let hash = 0;
  for (const char of path) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash.toString(36).padStart(6, '0').slice(-6);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * `requestContext.identity` of a REST proxy event for a Cognito-authorized (or public) call: only
 * the source IP and user agent are known; every IAM/Cognito-identity field is null, as in AWS.
 */
export function restRequestIdentity(sourceIp: string, userAgent: string | null): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}
