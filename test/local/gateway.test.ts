import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callerFromClaims } from '../../functions/shared/identity.ts';
import { type Route, VIEWER_ROUTES } from '../../lib/routes.ts';
import {
  bootstrapUserPool,
  ensureUser,
  type LocalCognito,
  type LocalUserPool,
  login,
  startCognitoLocal,
} from '../../local/cognito.ts';
import {
  CORS_PREFLIGHT,
  claimsAsApiGatewayRendersThem,
  type GatewayLogEntry,
  type LocalGateway,
  type LocalGatewayOptions,
  type ProxyHandler,
  startLocalGateway,
} from '../../local/gateway.ts';

const APP_ORIGIN = 'http://localhost:5173';
const OTHER_ORIGIN = 'https://evil.example';
const PASSWORD = 'Passw0rd!local';

const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/embed-tokens', function: 'embed-tokens', summary: 'sign' },
  { method: 'GET', path: '/v1/admin/embeds/{embedId}', function: 'admin', group: 'tenant-admins', summary: 'get' },
  { method: 'PATCH', path: '/v1/admin/embeds/{embedId}', function: 'admin', group: 'tenant-admins', summary: 'patch' },
  { method: 'GET', path: '/v1/admin/embeds/special', function: 'admin', group: 'tenant-admins', summary: 'literal' },
];

let cognito: LocalCognito;
let pool: LocalUserPool;
let aliceSub: string;
let aliceTokens: { idToken: string; accessToken: string };
let gateway: LocalGateway;
let logs: GatewayLogEntry[];
/** What the fake handlers saw, newest last. */
let calls: Array<{ fn: string; event: APIGatewayProxyEvent; context: Context }>;
let respond: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

function fakeHandler(fn: string): ProxyHandler {
  return async (event, context) => {
    calls.push({ fn, event, context });
    return respond(event);
  };
}

/** The request id the gateway sent; its own error bodies must carry the same one. */
function requestIdOf(response: Response): string {
  const requestId = response.headers.get('x-amzn-requestid');
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  return requestId as string;
}

async function startGateway(overrides: Partial<LocalGatewayOptions> = {}): Promise<LocalGateway> {
  return startLocalGateway({
    auth: { issuer: pool.issuer, clientIds: [pool.clientId], jwksUrl: pool.jwksUrl },
    allowedOrigins: [APP_ORIGIN],
    routes: ROUTES,
    handlers: { 'embed-tokens': fakeHandler('embed-tokens'), admin: fakeHandler('admin') },
    log: (entry) => logs.push(entry),
    ...overrides,
  });
}

beforeAll(async () => {
  cognito = await startCognitoLocal();
  pool = await bootstrapUserPool(cognito);
  aliceSub = await ensureUser(cognito, pool, {
    username: 'alice',
    password: PASSWORD,
    tenantId: 'acme',
    region: 'EU',
    email: 'alice@acme.example',
    groups: ['tenant-admins', 'embed-signers'],
  });
  aliceTokens = await pool.login('alice', PASSWORD);
  gateway = await startGateway();
});

afterAll(async () => {
  await gateway?.close();
  await cognito?.stop();
});

beforeEach(() => {
  calls = [];
  logs = [];
  respond = async () => ({ statusCode: 200, body: JSON.stringify({ ok: true }) });
});

describe('local gateway: authenticated requests reach the handler', () => {
  it('passes a REST proxy event with the claims as API Gateway renders them', async () => {
    // Prepare
    respond = async () => ({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Handler': 'yes' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: JSON.stringify({ token: 't' }),
    });
    // Act
    const response = await fetch(`${gateway.url}/v1/embed-tokens?x=1&y=a&y=b`, {
      method: 'POST',
      headers: { Authorization: aliceTokens.idToken, 'Content-Type': 'application/json', 'X-Custom': 'v' },
      body: JSON.stringify({ embedId: 'e1' }),
    });
    // Assess: the response
    expect(response.status).toBe(201);
    expect(response.headers.get('x-handler')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({ token: 't' });
    // Assess: the event
    expect(calls).toHaveLength(1);
    const { fn, event, context } = calls[0] as (typeof calls)[0];
    expect(fn).toBe('embed-tokens');
    expect(event).toMatchObject({
      resource: '/v1/embed-tokens',
      path: '/v1/embed-tokens',
      httpMethod: 'POST',
      pathParameters: null,
      stageVariables: null,
      queryStringParameters: { x: '1', y: 'b' },
      multiValueQueryStringParameters: { x: ['1'], y: ['a', 'b'] },
      body: '{"embedId":"e1"}',
      isBase64Encoded: false,
    });
    expect(event.headers.Authorization ?? event.headers.authorization).toBe(aliceTokens.idToken);
    expect(event.multiValueHeaders['X-Forwarded-For'] ?? event.multiValueHeaders['x-forwarded-for']).toEqual([
      '127.0.0.1',
    ]);
    expect(event.requestContext).toMatchObject({
      resourcePath: '/v1/embed-tokens',
      httpMethod: 'POST',
      stage: 'local',
      path: '/local/v1/embed-tokens',
      identity: { sourceIp: '127.0.0.1' },
    });
    expect(event.requestContext.requestId).toBe(response.headers.get('x-amzn-requestid'));
    expect(event.requestContext.requestTimeEpoch).toEqual(expect.any(Number));
    expect(context.functionName).toBe('secure-embed-embed-tokens');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);

    const claims = event.requestContext.authorizer?.claims as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: aliceSub,
      'cognito:username': 'alice',
      'custom:tenant_id': 'acme',
      'custom:region': 'EU',
      'cognito:groups': 'embed-signers,tenant-admins',
      token_use: 'id',
      aud: pool.clientId,
      iss: pool.issuer,
      email: 'alice@acme.example',
      email_verified: 'true',
    });
    expect(Object.values(claims).every((v) => typeof v === 'string')).toBe(true);
    expect(claims.exp).toMatch(/^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
    expect(claims.auth_time).toMatch(/^\d+$/);
    // The product's own claim parser reads what the gateway produced.
    expect(callerFromClaims(claims)).toEqual({
      sub: aliceSub,
      username: 'alice',
      tenantId: 'acme',
      groups: ['embed-signers', 'tenant-admins'],
      attributes: { region: 'EU' },
    });
  });

  it('fills pathParameters, prefers a literal segment over a parameter, and maps base64 bodies', async () => {
    respond = async () => ({
      statusCode: 200,
      body: Buffer.from('raw bytes').toString('base64'),
      isBase64Encoded: true,
    });
    const byParam = await fetch(`${gateway.url}/v1/admin/embeds/em%20b1`, {
      headers: { Authorization: aliceTokens.idToken },
    });
    const literal = await fetch(`${gateway.url}/v1/admin/embeds/special`, {
      headers: { Authorization: aliceTokens.idToken },
    });
    expect(await byParam.text()).toBe('raw bytes');
    expect(literal.status).toBe(200);
    expect(calls.map((c) => [c.event.resource, c.event.pathParameters])).toEqual([
      ['/v1/admin/embeds/{embedId}', { embedId: 'em b1' }],
      ['/v1/admin/embeds/special', null],
    ]);
    expect(calls[0]?.event.body).toBeNull();
  });

  it('does not check groups: a user in no group still reaches the handler (handlers enforce groups)', async () => {
    await ensureUser(cognito, pool, { username: 'bob', password: PASSWORD, tenantId: 'acme' });
    const bob = await pool.login('bob', PASSWORD);
    const response = await fetch(`${gateway.url}/v1/admin/embeds/e1`, { headers: { Authorization: bob.idToken } });
    expect(response.status).toBe(200);
    const claims = calls[0]?.event.requestContext.authorizer?.claims as Record<string, string>;
    expect(claims['cognito:groups']).toBeUndefined();
    expect(callerFromClaims(claims).groups).toEqual([]);
  });
});

describe('local gateway: authentication failures answer 401 like the Cognito authorizer (with the stack body)', () => {
  async function expectUnauthorized(headers: Record<string, string>, target: LocalGateway = gateway) {
    const response = await fetch(`${target.url}/v1/embed-tokens`, { method: 'POST', headers, body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Authentication is required.',
      requestId: requestIdOf(response),
    });
    expect(response.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');
    expect(calls).toEqual([]);
  }

  it('refuses a request without a token', async () => {
    await expectUnauthorized({});
  });

  it('refuses garbage and a "Bearer " prefixed token (the REST authorizer takes the raw token)', async () => {
    await expectUnauthorized({ Authorization: 'not-a-jwt' });
    await expectUnauthorized({ Authorization: `Bearer ${aliceTokens.idToken}` });
  });

  it('refuses a token signed by another key under the same kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(decodeJwt(aliceTokens.idToken))
      .setProtectedHeader(decodeProtectedHeader(aliceTokens.idToken) as { alg: 'RS256'; kid: string })
      .sign(privateKey);
    await expectUnauthorized({ Authorization: forged });
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, , signature] = aliceTokens.idToken.split('.');
    const payload = { ...decodeJwt(aliceTokens.idToken), 'custom:tenant_id': 'globex' };
    const tampered = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    await expectUnauthorized({ Authorization: tampered });
  });

  it('refuses an access token instead of an ID token', async () => {
    await expectUnauthorized({ Authorization: aliceTokens.accessToken });
  });

  it('refuses an ID token minted for another app client', async () => {
    const other = await cognito.client.send(
      new CreateUserPoolClientCommand({ UserPoolId: pool.userPoolId, ClientName: 'someone-else' }),
    );
    const tokens = await login(cognito, other.UserPoolClient?.ClientId as string, 'alice', PASSWORD);
    await expectUnauthorized({ Authorization: tokens.idToken });
  });

  it('refuses an ID token of another user pool (cognito-local signs every pool with one key, so iss decides)', async () => {
    const otherPool = await bootstrapUserPool(cognito, { poolName: 'another-pool' });
    await ensureUser(cognito, otherPool, { username: 'mallory', password: PASSWORD, tenantId: 'acme' });
    const tokens = await otherPool.login('mallory', PASSWORD);
    const target = await startGateway({
      auth: { issuer: pool.issuer, clientIds: [pool.clientId, otherPool.clientId], jwksUrl: pool.jwksUrl },
    });
    try {
      await expectUnauthorized({ Authorization: tokens.idToken }, target);
    } finally {
      await target.close();
    }
  });

  it('refuses an expired token', async () => {
    const exp = decodeJwt(aliceTokens.idToken).exp as number;
    const later = await startGateway({ now: () => new Date((exp + 1) * 1000) });
    try {
      await expectUnauthorized({ Authorization: aliceTokens.idToken }, later);
    } finally {
      await later.close();
    }
  });
});

describe('local gateway: routing and limits', () => {
  it('answers 404 for an unknown path and 405 for another method, with API Gateway bodies', async () => {
    const unknown = await fetch(`${gateway.url}/v1/nope`, { headers: { Authorization: aliceTokens.idToken } });
    const wrongMethod = await fetch(`${gateway.url}/v1/embed-tokens`, {
      headers: { Authorization: aliceTokens.idToken },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'Missing Authentication Token', requestId: requestIdOf(unknown) });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toEqual({
      message: 'Missing Authentication Token',
      requestId: requestIdOf(wrongMethod),
    });
    expect(calls).toEqual([]);
  });

  it('validates POST bodies as JSON objects after authentication, like the stack request validator', async () => {
    const headers = { Authorization: aliceTokens.idToken, 'Content-Type': 'application/json' };
    const empty = await fetch(`${gateway.url}/v1/embed-tokens`, { method: 'POST', headers });
    const array = await fetch(`${gateway.url}/v1/embed-tokens`, { method: 'POST', headers, body: '[1]' });
    const broken = await fetch(`${gateway.url}/v1/embed-tokens`, { method: 'POST', headers, body: '{"a":' });
    const unauthenticated = await fetch(`${gateway.url}/v1/embed-tokens`, { method: 'POST', body: '[1]' });
    for (const response of [empty, array, broken]) {
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'Invalid request: the body must be a JSON object.',
        requestId: requestIdOf(response),
      });
    }
    expect(unauthenticated.status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('answers 502 for a handler that throws or returns a malformed result, and logs why', async () => {
    respond = async () => {
      throw new Error('handler bug');
    };
    const thrown = await fetch(`${gateway.url}/v1/embed-tokens`, {
      method: 'POST',
      headers: { Authorization: aliceTokens.idToken },
      body: '{}',
    });
    respond = async () => ({ body: 'no status' }) as unknown as APIGatewayProxyResult;
    const malformed = await fetch(`${gateway.url}/v1/embed-tokens`, {
      method: 'POST',
      headers: { Authorization: aliceTokens.idToken },
      body: '{}',
    });
    expect([thrown.status, malformed.status]).toEqual([502, 502]);
    expect(await thrown.json()).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'An internal error occurred.',
      requestId: requestIdOf(thrown),
    });
    expect(logs.map((l) => [l.status, (l.error as Error).message])).toEqual([
      [502, 'handler bug'],
      [502, expect.stringContaining('Malformed Lambda proxy response')],
    ]);
  });

  it('answers 504 when the handler exceeds the integration timeout', async () => {
    const slow = await startGateway({ integrationTimeoutMs: 50 });
    respond = () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: '' }), 500));
    try {
      const response = await fetch(`${slow.url}/v1/embed-tokens`, {
        method: 'POST',
        headers: { Authorization: aliceTokens.idToken },
        body: '{}',
      });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        code: 'INTERNAL_ERROR',
        message: 'An internal error occurred.',
        requestId: requestIdOf(response),
      });
    } finally {
      await slow.close();
    }
  });

  it('answers 413 above the body limit without calling the handler', async () => {
    const small = await startGateway({ maxBodyBytes: 1024 });
    try {
      const response = await fetch(`${small.url}/v1/embed-tokens`, {
        method: 'POST',
        headers: { Authorization: aliceTokens.idToken },
        body: 'x'.repeat(2048),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ message: 'Request Too Long', requestId: requestIdOf(response) });
      expect(calls).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('serves extra routes first and falls through to the static handler for non-API paths', async () => {
    const withExtras = await startGateway({
      extraRoutes: [
        {
          method: 'GET',
          path: '/config.json',
          handle: (_request, response) => {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end('{"apiUrl":"x"}');
          },
        },
      ],
      staticHandler: (request, response) => {
        if (!request.url?.startsWith('/embed/')) return false;
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<html>viewer</html>');
        return true;
      },
    });
    try {
      expect(await (await fetch(`${withExtras.url}/config.json`)).json()).toEqual({ apiUrl: 'x' });
      expect(await (await fetch(`${withExtras.url}/embed/e1`)).text()).toBe('<html>viewer</html>');
      expect((await fetch(`${withExtras.url}/elsewhere`)).status).toBe(404);
    } finally {
      await withExtras.close();
    }
  });
});

describe('local gateway: public routes (the viewer API)', () => {
  it('serves VIEWER_ROUTES without a token, with a claim-less REST event, and passes the page through', async () => {
    // Prepare
    const viewer = await startGateway({
      publicRoutes: VIEWER_ROUTES,
      publicHandlers: { viewer: fakeHandler('viewer') },
    });
    respond = async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "frame-ancestors 'none'" },
      body: '<!doctype html><title>Dashboard</title>',
    });
    try {
      // Act
      const response = await fetch(`${viewer.url}/embed/acme/sales-board`, { headers: { accept: 'text/html' } });

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      expect(await response.text()).toBe('<!doctype html><title>Dashboard</title>');
      expect(calls).toHaveLength(1);
      const [{ fn, event }] = calls as [(typeof calls)[number]];
      expect(fn).toBe('viewer');
      expect(event).toMatchObject({
        resource: '/embed/{tenantId}/{embedId}',
        path: '/embed/acme/sales-board',
        httpMethod: 'GET',
        pathParameters: { tenantId: 'acme', embedId: 'sales-board' },
        body: null,
      });
      expect(event.requestContext.authorizer).toBeNull();
      expect(event.requestContext.resourcePath).toBe('/embed/{tenantId}/{embedId}');
    } finally {
      await viewer.close();
    }
  });

  it('serves asset routes, refuses other methods and leaves the API routes authenticated', async () => {
    const viewer = await startGateway({
      publicRoutes: VIEWER_ROUTES,
      publicHandlers: { viewer: fakeHandler('viewer') },
    });
    try {
      expect((await fetch(`${viewer.url}/assets/viewer/viewer.js`)).status).toBe(200);
      expect(calls.at(-1)?.event.pathParameters).toEqual({ file: 'viewer.js' });
      // A second segment is another path, not a {file}: API Gateway does not match it either.
      expect((await fetch(`${viewer.url}/assets/viewer/a/b.js`)).status).toBe(404);
      const post = await fetch(`${viewer.url}/embed/acme/sales-board`, { method: 'POST', body: '{}' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET');
      expect((await fetch(`${viewer.url}/v1/embed-tokens`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect(calls).toHaveLength(1);
    } finally {
      await viewer.close();
    }
  });
});

describe('local gateway: CORS for allowed origins only', () => {
  it('answers a preflight from an allowed origin with the methods of the resource', async () => {
    const response = await fetch(`${gateway.url}/v1/admin/embeds/e1`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'PATCH' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,PATCH,OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type');
    expect(response.headers.get('access-control-max-age')).toBe('3600');
    expect(calls).toEqual([]);
  });

  it('gives a preflight from another origin no CORS headers', async () => {
    const response = await fetch(`${gateway.url}/v1/admin/embeds/e1`, {
      method: 'OPTIONS',
      headers: { Origin: OTHER_ORIGIN, 'Access-Control-Request-Method': 'PATCH' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('passes handler responses through untouched and gives gateway-made answers no CORS headers, like the stack', async () => {
    respond = async (event): Promise<APIGatewayProxyResult> => ({
      statusCode: 200,
      // Header names keep the client's casing, as in API Gateway.
      headers:
        (event.headers.Origin ?? event.headers.origin) === APP_ORIGIN
          ? { 'Access-Control-Allow-Origin': APP_ORIGIN }
          : {},
      body: '{}',
    });
    const allowed = await fetch(`${gateway.url}/v1/embed-tokens`, {
      method: 'POST',
      headers: { Authorization: aliceTokens.idToken, Origin: APP_ORIGIN },
      body: '{}',
    });
    const unauthorized = await fetch(`${gateway.url}/v1/embed-tokens`, {
      method: 'POST',
      headers: { Origin: APP_ORIGIN },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds CORS to gateway-made answers for allowed origins only when corsOnGatewayResponses is on', async () => {
    const withCors = await startGateway({ corsOnGatewayResponses: true });
    try {
      const allowed = await fetch(`${withCors.url}/v1/embed-tokens`, {
        method: 'POST',
        headers: { Origin: APP_ORIGIN },
      });
      const other = await fetch(`${withCors.url}/v1/embed-tokens`, {
        method: 'POST',
        headers: { Origin: OTHER_ORIGIN },
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await withCors.close();
    }
  });

  it('uses the preflight headers and max age of the CDK stack', async () => {
    const { CORS_ALLOW_HEADERS } = await import('../../lib/constructs/embed-rest-api.ts');
    expect(CORS_PREFLIGHT.allowHeaders).toEqual(CORS_ALLOW_HEADERS);
  });
});

describe('claimsAsApiGatewayRendersThem', () => {
  it('renders numbers, booleans, lists and the exp/iat dates as API Gateway does', () => {
    expect(
      claimsAsApiGatewayRendersThem({
        sub: 's',
        exp: 1680633579,
        iat: 1680629979,
        auth_time: 1680629979,
        email_verified: true,
        'cognito:groups': ['a', 'b'],
        'custom:region': 'EU',
      }),
    ).toEqual({
      sub: 's',
      exp: 'Tue Apr 04 18:39:39 UTC 2023',
      iat: 'Tue Apr 04 17:39:39 UTC 2023',
      auth_time: '1680629979',
      email_verified: 'true',
      'cognito:groups': 'a,b',
      'custom:region': 'EU',
    });
  });
});
