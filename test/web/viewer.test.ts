/**
 * The embed viewer in a real Chromium, end to end through the SDK: origin A is a host page with
 * the built SDK; origin B is a fake API that serves the viewer page through `renderViewerPage`
 * (so its real CSP applies) and implements the contract shapes of `/v1/embed/sessions`,
 * `/renew` and `/v1/embed/query`.
 */
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCspNonce, renderViewerPage } from '../../functions/viewer/render-viewer-page.ts';
import {
  SCREENSHOT_DIR,
  type TestServer,
  buildForTest,
  hostPageHtml,
  launchChromium,
  sendHtml,
  sendJson,
  serveAsset,
  startServer,
} from './support.ts';

declare global {
  interface Window {
    hostLog: { errors: { code: string; message: string }[]; ready: number; tokenRequests: number; authSent: number };
    hostControl: { nextToken: string; tokenError: boolean };
  }
}

const ID_TOKEN = 'id-token-alice';
const XSS_NAME = '<img src=x onerror="window.pwned=1">';

interface ApiCall {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

interface Params {
  period?: { from: string; to: string };
  region?: string;
  minOrder?: number;
  includeReturns?: boolean;
  channels?: string[];
}

const INITIAL_PARAMS: Required<Params> = {
  period: { from: '2024-03-01', to: '2024-03-31' },
  region: 'EU',
  minOrder: 0,
  includeReturns: false,
  channels: ['web', 'store'],
};

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${from}T00:00:00Z`);
    t <= Date.parse(`${to}T00:00:00Z`) && out.length < 366;
    t += 86_400_000
  ) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** Deterministic query results that depend on the parameters, so every widget visibly changes. */
function queryResult(params: Params) {
  const period = params.period ?? INITIAL_PARAMS.period;
  const range = days(period.from, period.to);
  const boost = params.region === 'US' ? 300 : 0;
  const daily = range.map((day, i) => [day, 1000 + ((i * 137) % 500) + boost]);
  const revenue = daily.reduce((sum, row) => sum + (row[1] as number), 0);
  const n = range.length;
  return {
    widgets: {
      revenue: {
        columns: [{ name: 'revenue', type: 'number', label: 'Revenue (EUR)' }],
        rows: [[revenue]],
        truncated: false,
      },
      orders_by_region: {
        columns: ['region', 'orders', 'returns'],
        rows: [
          ['EU', n * 12, n * 2],
          ['US', 200 + n * 3, 40 + n],
          ['APAC', 90 + n * 5, 10],
        ],
        truncated: false,
      },
      daily_revenue: {
        columns: [
          { name: 'day', type: 'date' },
          { name: 'revenue', type: 'number' },
        ],
        rows: daily,
        truncated: false,
      },
      top_products: {
        columns: ['product', 'units', 'revenue'],
        rows: [
          ['Trail shoes', n * 7, n * 7 * 89.5],
          ['Rain jacket', n * 5, n * 5 * 129],
          [XSS_NAME, n * 3, n * 3 * 19.99],
          ['Wool socks', n * 2 + 1, (n * 2 + 1) * 12],
          ['Headlamp', n, n * 34],
        ],
        truncated: false,
      },
    },
    parameters: { ...INITIAL_PARAMS, ...params },
  };
}

function sessionResponse(sessionId: string, expiresInMs: number, origins: string[]) {
  return {
    sessionId,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    embed: { id: 'sales', allowedOrigins: origins },
    dashboard: {
      id: 'sales-dashboard',
      title: 'Sales overview',
      widgets: [
        { id: 'revenue', type: 'number', title: 'Revenue' },
        { id: 'orders_by_region', type: 'bar', title: 'Orders by region' },
        { id: 'daily_revenue', type: 'line', title: 'Daily revenue' },
        { id: 'top_products', type: 'table', title: 'Top products' },
      ],
    },
    parameters: [
      {
        name: 'period',
        type: 'dateRange',
        label: 'Period',
        min: '2024-01-01',
        max: '2024-12-31',
        value: INITIAL_PARAMS.period,
      },
      { name: 'region', type: 'string', label: 'Region', allowedValues: ['EU', 'US', 'APAC'], value: 'EU' },
      { name: 'minOrder', type: 'number', label: 'Min. order', min: 0, max: 1000, value: 0 },
      { name: 'includeReturns', type: 'boolean', label: 'Include returns', value: false },
      {
        name: 'channels',
        type: 'stringList',
        label: 'Channels',
        allowedValues: ['web', 'store', 'partner'],
        value: ['web', 'store'],
      },
    ],
    data: queryResult(INITIAL_PARAMS),
  };
}

/** Tokens that make the fake API answer with an error, as the real one does. */
const TOKEN_ERRORS: Record<string, [number, string, string]> = {
  expired: [401, 'EMBED_TOKEN_EXPIRED', 'The embed token has expired.'],
  revoked: [401, 'EMBED_TOKEN_REVOKED', 'The embed token has been revoked.'],
  'other-user': [403, 'EMBED_TOKEN_IDENTITY_MISMATCH', 'This embed was not issued to you.'],
  used: [401, 'EMBED_TOKEN_ALREADY_REDEEMED', 'The embed token has already been used.'],
  'bad-signature': [401, 'EMBED_TOKEN_SIGNATURE_INVALID', 'The embed token signature is invalid.'],
  'embed-disabled': [403, 'EMBED_DISABLED', 'This embed is disabled.'],
  unauth: [401, 'UNAUTHENTICATED', 'Authentication is required.'],
};

let browser: Browser;
let build: Awaited<ReturnType<typeof buildForTest>>;
let host: TestServer;
let api: TestServer;
let page: Page;
let calls: ApiCall[] = [];
let consoleErrors: string[] = [];

beforeAll(async () => {
  build = await buildForTest();
  browser = await launchChromium();
  host = await startServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://host');
    if (url.pathname === '/host.html') {
      const embedUrl = url.searchParams.get('embed') ?? '';
      sendHtml(response, hostPageHtml(embedUrl, { idToken: ID_TOKEN, minHeight: 200, maxHeight: 3000 }));
    } else if (url.pathname.startsWith('/sdk/')) {
      return serveAsset(response, build.outDir, url.pathname.slice(1));
    } else {
      response.writeHead(404).end();
    }
  });
  api = await startServer((request, response, rawBody) => {
    const url = new URL(request.url ?? '/', 'http://api');
    const embedPage = /^\/embed\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && embedPage?.[1]) {
      const embedId = decodeURIComponent(embedPage[1]);
      const page = renderViewerPage({
        embedId,
        allowedOrigins: [host.origin],
        apiBaseUrl: api.origin,
        assetBaseUrl: `${api.origin}/assets`,
        nonce: createCspNonce(),
        state: embedId === 'disabled-embed' ? 'disabled' : 'active',
      });
      response.writeHead(page.status, page.headers);
      response.end(page.body);
      return;
    }
    if (request.method === 'GET' && url.pathname.startsWith('/assets/')) {
      return serveAsset(response, build.outDir, `viewer/${url.pathname.slice('/assets/'.length)}`);
    }
    if (request.method !== 'POST') {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(rawBody || '{}') as Record<string, unknown>;
    calls.push({ path: url.pathname, authorization: request.headers.authorization, body });
    if (url.pathname === '/v1/embed/sessions') {
      const token = String(body.token);
      if (token === 'network') {
        request.socket.destroy();
        return;
      }
      const failure = TOKEN_ERRORS[token];
      if (failure) return sendJson(response, failure[0], { code: failure[1], message: failure[2] });
      if (request.headers.authorization !== ID_TOKEN) {
        return sendJson(response, 401, { code: 'UNAUTHENTICATED', message: 'Authentication is required.' });
      }
      // `short-…` sessions expire in just over a minute so that the viewer renews within seconds.
      const lifetime = token.startsWith('short') ? 65_000 : 3_600_000;
      return sendJson(response, 201, sessionResponse(`sess-${token}`, lifetime, [host.origin]));
    }
    const renew = /^\/v1\/embed\/sessions\/([^/]+)\/renew$/.exec(url.pathname);
    if (renew?.[1]) {
      return sendJson(response, 200, {
        sessionId: renew[1],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
    }
    if (url.pathname === '/v1/embed/query') {
      const params = (body.params ?? {}) as Params;
      if (params.minOrder === 999) {
        return sendJson(response, 400, {
          code: 'PARAM_INVALID',
          message: 'Parameter "minOrder" is invalid: not an allowed value.',
          details: { parameter: 'minOrder' },
        });
      }
      if (params.region === 'APAC') {
        return sendJson(response, 401, { code: 'EMBED_SESSION_INVALID', message: 'The embed session is invalid.' });
      }
      return sendJson(response, 200, queryResult(params));
    }
    sendJson(response, 404, { code: 'NOT_FOUND', message: 'The route was not found.' });
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([host?.close(), api?.close()]);
  await build?.cleanup();
});

beforeEach(async () => {
  calls = [];
  consoleErrors = [];
  await page?.close();
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
});

/** Opens the host page embedding `/embed/<embedId>#token=<token>` and waits for the viewer to settle. */
async function openEmbed(token: string, embedId = 'sales'): Promise<Frame> {
  const embedUrl = `${api.origin}/embed/${embedId}#token=${token}`;
  await page.goto(`${host.origin}/host.html?embed=${encodeURIComponent(embedUrl)}`);
  const frame = await viewerFrame();
  await frame.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error');
  return frame;
}

async function viewerFrame(): Promise<Frame> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const frame = page.frames().find((candidate) => candidate.url().startsWith(`${api.origin}/embed/`));
    if (frame) return frame;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error('viewer frame not found');
}

const queryCalls = () => calls.filter((call) => call.path === '/v1/embed/query');

async function widgetSnapshot(frame: Frame) {
  return frame.evaluate(() => {
    const canvas = (id: string) =>
      document.querySelector<HTMLCanvasElement>(`[data-testid="widget-${id}"] canvas`)?.toDataURL() ?? '';
    return {
      kpi: document.querySelector('[data-testid="widget-revenue"] [data-testid="kpi-value"]')?.textContent ?? '',
      bar: canvas('orders_by_region'),
      line: canvas('daily_revenue'),
      linePoints: document.querySelector<HTMLElement>('[data-testid="widget-daily_revenue"] .chart')?.dataset.points,
      table: [...document.querySelectorAll('[data-testid="widget-top_products"] tbody tr')].map(
        (row) => row.textContent ?? '',
      ),
    };
  });
}

describe('embed viewer', () => {
  it('authenticates over postMessage, redeems once and renders the four widget types', async () => {
    // Act
    const frame = await openEmbed('good-1');

    // Assess: one redemption, with the token in the body and the ID token from the host.
    expect(calls).toEqual([{ path: '/v1/embed/sessions', authorization: ID_TOKEN, body: { token: 'good-1' } }]);
    expect(frame.url()).toBe(`${api.origin}/embed/sales`);
    expect(await frame.evaluate(() => document.body.dataset.state)).toBe('ready');
    expect(await frame.getByTestId('dashboard-title').textContent()).toBe('Sales overview');

    const types = await frame.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-widget-type]')].map((widget) => widget.dataset.widgetType),
    );
    expect(types).toEqual(['number', 'bar', 'line', 'table']);
    const revenue = queryResult(INITIAL_PARAMS).widgets.revenue.rows[0]?.[0] as number;
    expect(await frame.getByTestId('kpi-value').textContent()).toBe(revenue.toLocaleString('en-US'));
    expect(await frame.evaluate(() => document.querySelectorAll('.chart canvas').length)).toBe(2);
    const charts = await frame.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('.chart')].map((chart) => ({ ...chart.dataset })),
    );
    expect(charts).toEqual([
      { testid: 'chart', points: '3', series: '2' },
      { testid: 'chart', points: '31', series: '1' },
    ]);

    // Table cells are text: the markup in a product name is shown, not parsed.
    const cells = await frame.evaluate(() =>
      [...document.querySelectorAll('[data-testid="widget-top_products"] tbody tr td:first-child')].map(
        (cell) => cell.textContent,
      ),
    );
    expect(cells).toContain(XSS_NAME);
    expect(await frame.evaluate(() => document.querySelectorAll('img').length)).toBe(0);
    expect(await frame.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

    // Controls for each editable parameter, with their bounds and current values.
    expect(await frame.getByTestId('control-period-from').inputValue()).toBe('2024-03-01');
    expect(await frame.getByTestId('control-period-to').inputValue()).toBe('2024-03-31');
    expect(await frame.getByTestId('control-period-from').getAttribute('min')).toBe('2024-01-01');
    expect(await frame.getByTestId('control-period-to').getAttribute('max')).toBe('2024-12-31');
    expect(await frame.getByTestId('control-region-input').inputValue()).toBe('EU');
    expect(await frame.getByTestId('control-minOrder-input').inputValue()).toBe('0');
    expect(await frame.getByTestId('control-includeReturns-input').isChecked()).toBe(false);
    expect(await frame.getByTestId('control-channels-summary').textContent()).toBe('web, store');

    // The host heard about it and sized the frame to the content.
    await page.waitForFunction(() => window.hostLog.ready === 1);
    const height = await page.evaluate(() =>
      Number.parseInt(document.querySelector('iframe')?.style.height ?? '0', 10),
    );
    expect(height).toBeGreaterThan(500);
    expect(consoleErrors.filter((text) => /Content.Security.Policy|Refused/i.test(text))).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'viewer-ready.png'), fullPage: true });
  });

  it('sends exactly one query for a date range change and updates every widget from it', async () => {
    // Prepare
    const frame = await openEmbed('good-2');
    const before = await widgetSnapshot(frame);

    // Act: both ends changed back to back (as one date picker gesture does) become one query.
    // Set in one evaluate so that a loaded machine cannot stretch the gap past the debounce.
    await frame.evaluate(() => {
      for (const [id, value] of [
        ['control-period-from', '2024-03-10'],
        ['control-period-to', '2024-03-20'],
      ] as const) {
        const input = document.querySelector<HTMLInputElement>(`[data-testid="${id}"]`);
        if (!input) throw new Error(`no ${id}`);
        input.value = value;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      }
    });
    await frame.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid="widget-daily_revenue"] .chart')?.dataset.points === '11',
    );
    await new Promise((done) => setTimeout(done, 600));

    // Assess
    expect(queryCalls()).toEqual([
      {
        path: '/v1/embed/query',
        authorization: ID_TOKEN,
        body: {
          sessionId: 'sess-good-2',
          embedId: 'sales',
          params: { ...INITIAL_PARAMS, period: { from: '2024-03-10', to: '2024-03-20' } },
        },
      },
    ]);
    const after = await widgetSnapshot(frame);
    expect(after.kpi).not.toBe(before.kpi);
    expect(after.bar).not.toBe(before.bar);
    expect(after.line).not.toBe(before.line);
    expect(after.linePoints).toBe('11');
    expect(after.table).not.toEqual(before.table);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'viewer-filtered.png'), fullPage: true });
  });

  it('does not query for an inverted date range and says why', async () => {
    const frame = await openEmbed('good-3');

    await frame.getByTestId('control-period-from').fill('2024-04-10');
    await frame.getByTestId('query-error').waitFor();

    expect(await frame.getByTestId('query-error').getAttribute('data-error-code')).toBe('PARAM_INVALID');
    expect(await frame.getByTestId('query-error').textContent()).toContain('after its end');
    expect(queryCalls()).toEqual([]);
  });

  it('shows a parameter error from the API next to the filters and keeps the dashboard', async () => {
    const frame = await openEmbed('good-4');

    await frame.getByTestId('control-minOrder-input').fill('999');
    await frame.getByTestId('query-error').waitFor();

    expect(await frame.getByTestId('query-error').getAttribute('data-error-code')).toBe('PARAM_INVALID');
    expect(await frame.getByTestId('query-error').textContent()).toBe(
      'Parameter "minOrder" is invalid: not an allowed value.',
    );
    expect(await frame.evaluate(() => document.body.dataset.state)).toBe('ready');
  });

  it('renews the session before it expires and keeps the chosen filters', async () => {
    // Prepare: a session that expires in 65 s is renewed about 5 s after it opens.
    const frame = await openEmbed('short-1');
    await frame.getByTestId('control-period-from').fill('2024-02-01');
    await frame.getByTestId('control-period-to').fill('2024-02-14');
    await frame.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid="widget-daily_revenue"] .chart')?.dataset.points === '14',
    );
    await frame.evaluate(() => {
      const dashboard = document.querySelector<HTMLElement>('[data-testid="dashboard"]');
      if (dashboard) dashboard.dataset.marker = 'before-renewal';
    });
    await new Promise((done) => setTimeout(done, 400));
    const queriesBeforeRenewal = queryCalls().length;

    // Act
    await page.waitForFunction(() => window.hostLog.tokenRequests === 1, undefined, { timeout: 10_000 });
    await expect.poll(() => calls.some((call) => call.path.endsWith('/renew')), { timeout: 5_000 }).toBe(true);

    // Assess: renewed with the host's new token; nothing re-rendered or re-queried.
    expect(calls.filter((call) => call.path.endsWith('/renew'))).toEqual([
      { path: '/v1/embed/sessions/sess-short-1/renew', authorization: ID_TOKEN, body: { token: 'renewed-1' } },
    ]);
    expect(queryCalls()).toHaveLength(queriesBeforeRenewal);
    expect(await frame.getByTestId('control-period-from').inputValue()).toBe('2024-02-01');
    expect(await frame.getByTestId('control-period-to').inputValue()).toBe('2024-02-14');
    expect(
      await frame.evaluate(() => document.querySelector<HTMLElement>('[data-testid="dashboard"]')?.dataset.marker),
    ).toBe('before-renewal');

    // The next change still carries the chosen period.
    await frame.getByTestId('control-region-input').selectOption('US');
    await expect.poll(() => queryCalls().length).toBe(queriesBeforeRenewal + 1);
    expect(queryCalls().at(-1)?.body).toEqual({
      sessionId: 'sess-short-1',
      embedId: 'sales',
      params: { ...INITIAL_PARAMS, region: 'US', period: { from: '2024-02-01', to: '2024-02-14' } },
    });
  });

  it.each([
    ['expired', 'EMBED_TOKEN_EXPIRED', 'This dashboard link has expired.'],
    ['revoked', 'EMBED_TOKEN_REVOKED', 'Access to this dashboard has been revoked.'],
    ['other-user', 'EMBED_TOKEN_IDENTITY_MISMATCH', 'This dashboard was not issued to you.'],
    ['used', 'EMBED_TOKEN_ALREADY_REDEEMED', 'This dashboard link has already been used.'],
    ['bad-signature', 'EMBED_TOKEN_SIGNATURE_INVALID', 'This dashboard link is not valid.'],
    ['embed-disabled', 'EMBED_DISABLED', 'This dashboard has been disabled by its owner.'],
    ['network', 'NETWORK_ERROR', 'The dashboard service cannot be reached.'],
  ])('shows a clear message when redemption fails: %s', async (token, code, title) => {
    // Act
    const frame = await openEmbed(token);

    // Assess
    expect(await frame.evaluate(() => document.body.dataset.state)).toBe('error');
    expect(await frame.getByTestId('error').getAttribute('data-error-code')).toBe(code);
    expect(await frame.getByTestId('error-title').textContent()).toBe(title);
    await page.waitForFunction(() => window.hostLog.errors.length > 0);
    expect(await page.evaluate(() => window.hostLog.errors)).toEqual([{ code, message: title }]);
    if (token === 'other-user') {
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'viewer-error-not-issued-to-you.png'), fullPage: true });
    }
  });

  it('asks the host for a fresh ID token once when the API refuses it, then says signed out', async () => {
    const frame = await openEmbed('unauth');

    expect(await frame.getByTestId('error').getAttribute('data-error-code')).toBe('UNAUTHENTICATED');
    expect(calls.filter((call) => call.path === '/v1/embed/sessions')).toHaveLength(2);
    expect(await page.evaluate(() => window.hostLog.authSent)).toBe(2);
  });

  it('ends the dashboard with a message when the session is no longer valid', async () => {
    const frame = await openEmbed('good-5');

    await frame.getByTestId('control-region-input').selectOption('APAC');
    await frame.waitForFunction(() => document.body.dataset.state === 'error');

    expect(await frame.getByTestId('error').getAttribute('data-error-code')).toBe('EMBED_SESSION_INVALID');
  });

  it('shows the disabled page for a disabled embed without calling the API', async () => {
    const frame = await openEmbed('good-6', 'disabled-embed');

    expect(await frame.getByTestId('error').getAttribute('data-error-code')).toBe('EMBED_DISABLED');
    await page.waitForFunction(() => window.hostLog.errors.length > 0);
    expect(await page.evaluate(() => window.hostLog.errors.map((error) => error.code))).toEqual(['EMBED_DISABLED']);
    expect(calls).toEqual([]);
  });

  it('refuses to run outside a frame and removes the token from the address', async () => {
    await page.goto(`${api.origin}/embed/sales#token=good-7`);
    await page.waitForFunction(() => document.body.dataset.state === 'error');

    expect(await page.getByTestId('error').getAttribute('data-error-code')).toBe('EMBED_NOT_FRAMED');
    expect(page.url()).toBe(`${api.origin}/embed/sales`);
    expect(calls).toEqual([]);
  });
});
