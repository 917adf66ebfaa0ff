import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '#http/observability';
import { EmbedRepository } from '#control/embeds';
import { documentClient } from '#shared/clients';
import { createViewerHandler } from '../../functions/http/viewer-handler.ts';
import { VIEWER_ROUTES } from '../../lib/routes.ts';
import { lambdaContext, restEvent } from '../fixtures/api-gateway.ts';
import { TableGateway } from '#control/table-gateway';

/**
 * The public viewer function exactly as Lambda runs it (REST proxy events without identity),
 * against DynamoDB Local, with a viewer bundle directory that also holds files it must never serve.
 */

const API_BASE_URL = 'https://api123.execute-api.eu-west-1.amazonaws.com/dev';
const VIEWER_BASE_URL = 'https://view456.execute-api.eu-west-1.amazonaws.com/dev';
const HOST_ORIGIN = 'https://app.example.com';
const OTHER_HOST_ORIGIN = 'https://portal.example.org:8443';
const VIEWER_JS = 'console.log("viewer");\n';
const VIEWER_CSS = 'body{margin:0}\n';

type Handler = (
  event: APIGatewayProxyEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;

let handler: Handler;
let bundleRoot: string;
const tenantId = `viewer-${randomUUID().slice(0, 8)}`;
const embeds = new EmbedRepository(new TableGateway(documentClient(), 'test-control'));

const embed = (embedId: string, overrides: { enabled?: boolean; allowedOrigins?: string[] } = {}) =>
  embeds.save({
    tenantId,
    embedId,
    resource: { type: 'dashboard', id: 'sales' },
    parameterModes: {},
    allowedOrigins: overrides.allowedOrigins ?? [HOST_ORIGIN, OTHER_HOST_ORIGIN],
    maxTokenLifetimeSeconds: 300,
    enabled: overrides.enabled ?? true,
  });

const page = (pathParameters: Record<string, string>) =>
  handler(
    restEvent({ method: 'GET', resource: '/embed/{tenantId}/{embedId}', pathParameters, headers: browser }),
    lambdaContext('viewer'),
  );
const asset = (file: string) =>
  handler(
    restEvent({ method: 'GET', resource: '/assets/viewer/{file}', pathParameters: { file }, headers: browser }),
    lambdaContext('viewer'),
  );

/** What a browser sends on an iframe navigation: no Authorization header. */
const browser = { Accept: 'text/html', Authorization: '' };

function cspDirectives(response: APIGatewayProxyResult): Record<string, string> {
  const csp = String(response.headers?.['Content-Security-Policy'] ?? '');
  return Object.fromEntries(
    csp.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
}

beforeAll(async () => {
  // Prepare: the bundle directory as the Lambda asset has it, next to files that must stay private.
  bundleRoot = mkdtempSync(join(tmpdir(), 'viewer-bundle-'));
  const assetsDir = join(bundleRoot, 'viewer');
  mkdirSync(assetsDir);
  writeFileSync(join(assetsDir, 'viewer.js'), VIEWER_JS);
  writeFileSync(join(assetsDir, 'viewer.css'), VIEWER_CSS);
  writeFileSync(join(assetsDir, 'viewer.js.map'), '{"sources":["secret.ts"]}');
  writeFileSync(join(assetsDir, 'notes.txt'), 'internal');
  writeFileSync(join(bundleRoot, 'package.json'), '{"name":"private"}');
  process.env.API_BASE_URL = `${API_BASE_URL}/`;
  process.env.VIEWER_BASE_URL = VIEWER_BASE_URL;
  process.env.VIEWER_ASSETS_DIR = assetsDir;
  process.env.POWERTOOLS_DEV = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = (await import('../../functions/handlers/viewer.ts')) as unknown as { handler: Handler });
  await embed('sales-board');
  await embed('paused', { enabled: false });
  await embed('no-origins', { allowedOrigins: [] });
});

afterAll(() => {
  rmSync(bundleRoot, { recursive: true, force: true });
});

describe('viewer page', () => {
  it('renders the page of an enabled embed, framable exactly by its allowed origins', async () => {
    // Act
    const response = await page({ tenantId, embedId: 'sales-board' });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    const csp = cspDirectives(response);
    expect(csp['frame-ancestors']).toBe(`${HOST_ORIGIN} ${OTHER_HOST_ORIGIN}`);
    expect(csp['connect-src']).toBe('https://api123.execute-api.eu-west-1.amazonaws.com');
    expect(csp['style-src']).toBe('https://view456.execute-api.eu-west-1.amazonaws.com');
    expect(csp['script-src']).toMatch(/^'nonce-[A-Za-z0-9+/]{22}=='$/);
    expect(response.headers).toMatchObject({
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
    });
    expect(response.body).toContain(`src="${VIEWER_BASE_URL}/assets/viewer/viewer.js"`);
    expect(response.body).toContain(`href="${VIEWER_BASE_URL}/assets/viewer/viewer.css"`);
    expect(response.body).toContain(`"apiBaseUrl":"${API_BASE_URL}"`);
    expect(response.body).toContain('"embedId":"sales-board"');
  });

  it('uses a fresh nonce for every response', async () => {
    const first = cspDirectives(await page({ tenantId, embedId: 'sales-board' }))['script-src'];
    const second = cspDirectives(await page({ tenantId, embedId: 'sales-board' }))['script-src'];
    expect(first).not.toBe(second);
  });

  it('an embed without origins is not framable anywhere', async () => {
    const response = await page({ tenantId, embedId: 'no-origins' });
    expect(response.statusCode).toBe(200);
    expect(cspDirectives(response)['frame-ancestors']).toBe("'none'");
  });

  it('answers an unknown embed with the not-found page: 404, not framable, no script', async () => {
    // Act
    const response = await page({ tenantId, embedId: 'no-such-embed' });

    // Assess
    expect(response.statusCode).toBe(404);
    const csp = cspDirectives(response);
    expect(csp['frame-ancestors']).toBe("'none'");
    expect(csp['script-src']).toBe("'none'");
    expect(response.body).toContain('data-error-code="NOT_FOUND"');
    expect(response.body).not.toContain('no-such-embed');
  });

  it('an embed of another tenant is not found under this tenant', async () => {
    const response = await page({ tenantId: `other-${tenantId}`, embedId: 'sales-board' });
    expect(response.statusCode).toBe(404);
    expect(cspDirectives(response)['frame-ancestors']).toBe("'none'");
  });

  it('answers a disabled embed with the disabled page, framable by its origins so the host can show it', async () => {
    const response = await page({ tenantId, embedId: 'paused' });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('data-error-code="EMBED_DISABLED"');
    expect(cspDirectives(response)['frame-ancestors']).toBe(`${HOST_ORIGIN} ${OTHER_HOST_ORIGIN}`);
  });

  it.each([
    ['an upper-case tenant', { tenantId: 'ACME', embedId: 'sales-board' }],
    ['a tenant with a slash', { tenantId: '../acme', embedId: 'sales-board' }],
    ['markup as embed id', { tenantId: 'acme', embedId: '<script>alert(1)</script>' }],
    ['an over-long embed id', { tenantId: 'acme', embedId: 'x'.repeat(65) }],
    ['an empty embed id', { tenantId: 'acme', embedId: '' }],
  ])('refuses %s with the not-found page, echoing nothing', async (_name, pathParameters) => {
    const response = await page(pathParameters);
    expect(response.statusCode).toBe(404);
    expect(cspDirectives(response)['frame-ancestors']).toBe("'none'");
    expect(response.body).not.toContain(pathParameters.embedId || '"embedId":"x');
    expect(response.body).not.toMatch(/exception|stack|dynamo|at \w+ \(/i);
    expect(response.body).not.toContain('embed-config');
  });

  it('reads an embed once per container for a while: a reload storm costs one read', async () => {
    // Prepare
    await embed('cached', { allowedOrigins: [HOST_ORIGIN] });
    expect(cspDirectives(await page({ tenantId, embedId: 'cached' }))['frame-ancestors']).toBe(HOST_ORIGIN);

    // Act: the embed changes behind the cache.
    await embed('cached', { allowedOrigins: [OTHER_HOST_ORIGIN] });
    const again = await page({ tenantId, embedId: 'cached' });

    // Assess
    expect(cspDirectives(again)['frame-ancestors']).toBe(HOST_ORIGIN);
  });
});

describe('viewer assets', () => {
  it.each([
    ['viewer.js', 'text/javascript; charset=utf-8', VIEWER_JS],
    ['viewer.css', 'text/css; charset=utf-8', VIEWER_CSS],
  ])('serves %s with its content type, a short public cache and nosniff', async (file, contentType, body) => {
    const response = await asset(file);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(body);
    expect(response.headers).toMatchObject({
      'Content-Type': contentType,
      'Cache-Control': 'public, max-age=300',
      'X-Content-Type-Options': 'nosniff',
    });
  });

  it.each([
    '../package.json',
    '..%2fpackage.json',
    '%2e%2e',
    '..',
    '.',
    'viewer.js.map',
    'notes.txt',
    'unknown.js',
    'VIEWER.JS',
    'viewer.js/',
    '/viewer.js',
    '',
  ])('answers %j with a plain 404 that echoes nothing', async (file) => {
    const response = await asset(file);
    expect(response.statusCode).toBe(404);
    expect(response.body).toBe('Not found.');
    expect(response.headers?.['Content-Type']).toBe('text/plain; charset=utf-8');
    expect(response.headers?.['X-Content-Type-Options']).toBe('nosniff');
  });
});

describe('failures', () => {
  it('a failing lookup becomes a generic 500 that is not framable; the cause goes to the log only', async () => {
    // Prepare
    const logged: unknown[] = [];
    const failing = createViewerHandler({
      logger: { error: (...args: unknown[]) => logged.push(args) } as unknown as Logger,
      apiBaseUrl: API_BASE_URL,
      assetBaseUrl: `${VIEWER_BASE_URL}/assets/viewer`,
      embedPageState: () => Promise.reject(new Error('ResourceNotFoundException: table test-control')),
      assets: new Map(),
    });

    // Act
    const response = await failing(
      restEvent({ method: 'GET', resource: '/embed/{tenantId}/{embedId}', pathParameters: { tenantId, embedId: 'x' } }),
    );

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe('This dashboard is temporarily unavailable.');
    expect(cspDirectives(response)['frame-ancestors']).toBe("'none'");
    expect(logged).toHaveLength(1);
  });
});

describe('routing', () => {
  it('serves exactly the routes of VIEWER_ROUTES', () => {
    expect(VIEWER_ROUTES.map((route) => `${route.method} ${route.path} ${route.function}`)).toEqual([
      'GET /embed/{tenantId}/{embedId} viewer',
      'GET /assets/viewer/{file} viewer',
    ]);
  });

  it('answers any other route 404 without calling anything', async () => {
    const response = await handler(
      restEvent({
        method: 'POST',
        resource: '/embed/{tenantId}/{embedId}',
        pathParameters: { tenantId, embedId: 'sales-board' },
      }),
      lambdaContext('viewer'),
    );
    expect(response.statusCode).toBe(404);
    expect(response.body).toBe('Not found.');
  });
});
