/**
 * End-to-end: the dev stack (`startDevStack`, real handlers, DynamoDB Local, cognito-local, local
 * Secrets Manager and STS) driven through the demo host app in a real headless Chromium. The demo
 * app runs on `http://localhost:<port>` and frames the viewer from `http://127.0.0.1:<port>`, so
 * every cross-origin rule (postMessage origins, CSP frame-ancestors, CORS) is the browser's own.
 */
import type { AddressInfo } from 'node:net';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../local/dev.ts';
import {
  E2E_SCREENSHOT_DIR,
  callApi,
  idTokenOf,
  jwtClaims,
  launchChromium,
  setDateRange,
  signInToDemo,
  startE2eStack,
  tableColumn,
  viewerSettled,
} from './support.ts';

let stack: DevStack;
let cleanupStack: (() => Promise<void>) | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

const shot = (name: string) => join(E2E_SCREENSHOT_DIR, `${name}.png`);

async function newContext(): Promise<BrowserContext> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 1000 } });
  contexts.push(context);
  return context;
}

/** Requests of any frame of the page to one API path (the viewer frame is out of process, still reported). */
function recordApiRequests(
  page: { on(event: 'request', listener: (request: Request) => void): unknown },
  path: string,
) {
  const seen: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === path) seen.push(request);
  });
  return seen;
}

/** A token for `username` straight from the API (what the host app's backend would do). */
async function mintEmbedUrl(username: string, extra: Record<string, unknown> = {}) {
  const idToken = await idTokenOf(stack, username);
  const issued = await callApi(stack, idToken, 'POST', '/v1/embed-tokens', { embedId: stack.embedIds.acme, ...extra });
  expect(issued.status).toBe(201);
  return { idToken, token: issued.body.token as string, embedUrl: issued.body.embedUrl as string };
}

beforeAll(async () => {
  const [started, launched] = await Promise.all([startE2eStack(), launchChromium()]);
  stack = started.stack;
  cleanupStack = started.cleanup;
  browser = launched;
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await cleanupStack?.();
}, 60_000);

/** A raw HTTP call with an explicit Host header (fetch may not set one), without following redirects. */
function rawRequest(
  url: string,
  options: { host: string; method?: string; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: { host: options.host, ...(options.body ? { 'content-type': 'application/json' } : {}) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('dev server', () => {
  it('serves each origin only its own pages, the health check, the demo config and the demo login', async () => {
    // Prepare
    const viewerHost = new URL(stack.urls.viewerOrigin).host;
    const demoHost = new URL(stack.urls.demoOrigin).host;
    const at = (path: string) => `${stack.urls.viewerOrigin}${path}`;

    // Act
    const health = await rawRequest(at('/health'), { host: viewerHost });
    const config = await rawRequest(at('/demo/config.json'), { host: demoHost });
    const globexConfig = await rawRequest(at('/demo/globex/config.json'), { host: demoHost });
    const demoOnViewerHost = await rawRequest(at('/demo/index.html'), { host: viewerHost });
    const viewerOnDemoHost = await rawRequest(at('/embed/acme/acme-sales'), { host: demoHost });
    const viewerPage = await rawRequest(at('/embed/acme/acme-sales'), { host: viewerHost });
    const unknownEmbed = await rawRequest(at('/embed/acme/no-such-embed'), { host: viewerHost });
    const wrongPassword = await rawRequest(at('/demo-auth/login'), {
      host: demoHost,
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password: 'not-her-password' }),
    });
    const rightPassword = await rawRequest(at('/demo-auth/login'), {
      host: demoHost,
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password: 'Demo-alice-2025!' }),
    });

    // Assess
    expect(health.status).toBe(200);
    expect(JSON.parse(config.body)).toMatchObject({ apiBaseUrl: stack.urls.api, embedId: 'acme-sales' });
    expect(JSON.parse(globexConfig.body)).toMatchObject({ apiBaseUrl: stack.urls.api, embedId: 'globex-sales' });
    expect(demoOnViewerHost.status).toBe(302);
    expect(demoOnViewerHost.headers.location).toBe(`${stack.urls.demoOrigin}/demo/index.html`);
    expect(viewerOnDemoHost.status).toBe(302);
    expect(viewerOnDemoHost.headers.location).toBe(`${stack.urls.viewerOrigin}/embed/acme/acme-sales`);
    expect(viewerPage.status).toBe(200);
    expect(viewerPage.headers['content-security-policy']).toContain(`frame-ancestors ${stack.urls.demoOrigin}`);
    expect(unknownEmbed.status).toBe(404);
    expect(unknownEmbed.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(wrongPassword.status).toBe(401);
    expect(JSON.parse(wrongPassword.body)).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Incorrect username or password.',
    });
    expect(rightPassword.status).toBe(200);
    const tokens = JSON.parse(rightPassword.body) as { idToken: string; accessToken: string; expiresIn: number };
    expect(jwtClaims(tokens.idToken)['custom:region']).toBe('EU');
    expect(tokens.expiresIn).toBeGreaterThan(0);
  });
});

describe('embedded dashboard through the demo host app', () => {
  it('shows alice only EU rows and bob only US rows (RLS from the identity)', async () => {
    // Prepare
    const [aliceContext, bobContext] = await Promise.all([newContext(), newContext()]);

    // Act
    const [alicePage, bobPage] = await Promise.all([
      signInToDemo(aliceContext, stack, 'alice'),
      signInToDemo(bobContext, stack, 'bob'),
    ]);
    const [alice, bob] = await Promise.all([viewerSettled(alicePage), viewerSettled(bobPage)]);

    // Assess
    expect(alice.state).toBe('ready');
    expect(bob.state).toBe('ready');
    const aliceRegions = await tableColumn(alice.frame, 'latest-sales', 'region');
    const bobRegions = await tableColumn(bob.frame, 'latest-sales', 'region');
    expect(aliceRegions.length).toBeGreaterThan(0);
    expect(new Set(aliceRegions)).toEqual(new Set(['EU']));
    expect(bobRegions.length).toBeGreaterThan(0);
    expect(new Set(bobRegions)).toEqual(new Set(['US']));
    for (const frame of [alice.frame, bob.frame]) {
      expect(await frame.locator('[data-testid^="widget-"][data-widget-type]').count()).toBe(4);
      await expect(frame.getByTestId('kpi-value').textContent()).resolves.toMatch(/\d/);
    }
    // The other regions never reach alice's frame at all, not just the table.
    const aliceText = await alice.frame.evaluate(() => {
      // Text nodes joined by spaces, so adjacent cells cannot merge into or hide a word.
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const parts: string[] = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) parts.push(node.nodeValue ?? '');
      return parts.join(' ');
    });
    expect(aliceText).not.toMatch(/\b(US|APAC)\b/);
    // The query ran as the caller's tenant through the tenant-scoped role.
    expect(stack.sts.sessions.some((session) => session.tags.tenant === 'acme')).toBe(true);
    await alicePage.screenshot({ path: shot('alice-eu-dashboard'), fullPage: true });
    await bobPage.screenshot({ path: shot('bob-us-dashboard'), fullPage: true });
  }, 60_000);

  it("refuses bob's embed URL in alice's session: not issued to you, no data", async () => {
    // Prepare: bob gets an unused embed URL from his own session of the demo app.
    const [aliceContext, bobContext] = await Promise.all([newContext(), newContext()]);
    const [alicePage, bobPage] = await Promise.all([
      signInToDemo(aliceContext, stack, 'alice'),
      signInToDemo(bobContext, stack, 'bob'),
    ]);
    await viewerSettled(alicePage);
    await bobPage.getByTestId('mint-url').click();
    await expect.poll(() => bobPage.getByTestId('spare-url').inputValue()).toMatch(/#token=/);
    const bobsUrl = await bobPage.getByTestId('spare-url').inputValue();
    const sessions = recordApiRequests(alicePage, '/v1/embed/sessions');
    const queries = recordApiRequests(alicePage, '/v1/embed/query');

    // Act
    await alicePage.getByTestId('paste-url').fill(bobsUrl);
    await alicePage.getByTestId('paste-submit').click();
    const { frame, state } = await viewerSettled(alicePage);

    // Assess
    expect(state).toBe('error');
    await expect(frame.getByTestId('error').getAttribute('data-error-code')).resolves.toBe(
      'EMBED_TOKEN_IDENTITY_MISMATCH',
    );
    await expect(frame.getByTestId('error-title').textContent()).resolves.toMatch(/not issued to you/);
    expect(await frame.locator('[data-testid="widgets"]').count()).toBe(0);
    expect(sessions).toHaveLength(1);
    expect((await sessions[0]!.response())?.status()).toBe(403);
    expect(queries).toHaveLength(0);
    await expect(alicePage.getByTestId('status').textContent()).resolves.toMatch(/EMBED_TOKEN_IDENTITY_MISMATCH/);
    await alicePage.screenshot({ path: shot('alice-opens-bobs-url'), fullPage: true });

    // The refusal did not burn bob's token: it was checked against alice before any redemption.
    const bobIdToken = await idTokenOf(stack, 'bob');
    const opened = await callApi(stack, bobIdToken, 'POST', '/v1/embed/sessions', {
      token: new URLSearchParams(new URL(bobsUrl).hash.slice(1)).get('token'),
    });
    expect(opened.status).toBe(201);
  }, 60_000);

  it('shows an expired token and a revoked token with their messages', async () => {
    // Prepare: a 1-second token (left to expire) and a token revoked by the tenant admin.
    const context = await newContext();
    const page = await signInToDemo(context, stack, 'alice');
    await viewerSettled(page);
    const expired = await mintEmbedUrl('alice', { lifetimeSeconds: 1 });
    const revoked = await mintEmbedUrl('alice');
    const adminToken = await idTokenOf(stack, 'acme-admin');
    const revocation = await callApi(stack, adminToken, 'POST', '/v1/admin/revocations', {
      scope: 'token',
      jti: jwtClaims(revoked.token).jti,
    });
    expect(revocation.status).toBeLessThan(300);
    await page.waitForTimeout(1_500);

    // Act + Assess: expired
    await page.getByTestId('paste-url').fill(expired.embedUrl);
    await page.getByTestId('paste-submit').click();
    let settled = await viewerSettled(page);
    expect(settled.state).toBe('error');
    await expect(settled.frame.getByTestId('error').getAttribute('data-error-code')).resolves.toBe(
      'EMBED_TOKEN_EXPIRED',
    );
    await expect(settled.frame.getByTestId('error-title').textContent()).resolves.toMatch(/expired/i);
    await page.screenshot({ path: shot('expired-token'), fullPage: true });

    // Act + Assess: revoked
    await page.getByTestId('paste-url').fill(revoked.embedUrl);
    await page.getByTestId('paste-submit').click();
    settled = await viewerSettled(page);
    expect(settled.state).toBe('error');
    await expect(settled.frame.getByTestId('error').getAttribute('data-error-code')).resolves.toBe(
      'EMBED_TOKEN_REVOKED',
    );
    await expect(settled.frame.getByTestId('error-title').textContent()).resolves.toMatch(/revoked/i);
    await page.screenshot({ path: shot('revoked-token'), fullPage: true });
  }, 60_000);

  it('updates every widget from ONE query when the date range changes, and keeps it across renewals', async () => {
    // Prepare: the host app asks for 62-second tokens, so the viewer renews (60 s before expiry) within the test.
    const context = await newContext();
    await context.route('**/v1/embed-tokens', async (route) => {
      const request = route.request();
      if (request.method() !== 'POST') return route.continue();
      const body = JSON.parse(request.postData() ?? '{}') as Record<string, unknown>;
      return route.continue({ postData: JSON.stringify({ ...body, lifetimeSeconds: 62 }) });
    });
    const page = await signInToDemo(context, stack, 'alice');
    const { frame } = await viewerSettled(page);
    const kpiBefore = await frame.getByTestId('kpi-value').textContent();
    const queries = recordApiRequests(page, '/v1/embed/query');
    const renewals: Request[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/v1\/embed\/sessions\/[^/]+\/renew$/.test(request.url())) {
        renewals.push(request);
      }
    });

    // Act: both ends change at once; the viewer debounces them into one call.
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/embed/query');
    await setDateRange(frame, '2025-03-01', '2025-03-31');
    const response = await answered;
    await page.waitForTimeout(800);

    // Assess: one query for all four widgets, all of them showing March.
    expect(queries).toHaveLength(1);
    expect(response.status()).toBe(200);
    const sent = JSON.parse(queries[0]!.postData() ?? '{}') as { params?: Record<string, unknown> };
    expect(sent.params?.dateRange).toEqual({ from: '2025-03-01', to: '2025-03-31' });
    const result = (await response.json()) as { widgets: Record<string, unknown> };
    expect(Object.keys(result.widgets).sort()).toEqual([
      'kpi-revenue',
      'latest-sales',
      'revenue-by-month',
      'units-by-week',
    ]);
    const dates = await tableColumn(frame, 'latest-sales', 'date');
    expect(dates.length).toBeGreaterThan(0);
    for (const date of dates) expect(date).toMatch(/2025-03|Mar/);
    await expect(
      frame.locator('[data-testid="widget-revenue-by-month"] [data-testid="chart"]').getAttribute('data-points'),
    ).resolves.toBe('1');
    await expect(frame.getByTestId('kpi-value').textContent()).resolves.not.toBe(kpiBefore);
    await page.screenshot({ path: shot('date-range-march'), fullPage: true });

    // Act: let the session renew (the first renewal is due about 2 s after opening).
    await expect.poll(() => renewals.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect((await renewals[0]!.response())?.status()).toBe(200);
    await page.waitForTimeout(500);

    // Assess: the renewal touched neither the controls nor the widgets, and asked for no data.
    expect(queries).toHaveLength(1);
    await expect(frame.getByTestId('control-dateRange-from').inputValue()).resolves.toBe('2025-03-01');
    await expect(frame.getByTestId('control-dateRange-to').inputValue()).resolves.toBe('2025-03-31');
    expect(await frame.evaluate(() => document.body.dataset.state)).toBe('ready');
    // The renewed session still answers, with the range the viewer chose.
    const afterRenewal = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/embed/query');
    await setDateRange(frame, '2025-03-01', '2025-03-15');
    const renewedAnswer = (await (await afterRenewal).json()) as { parameters: Record<string, unknown> };
    expect(renewedAnswer.parameters.dateRange).toEqual({ from: '2025-03-01', to: '2025-03-15' });
    expect(queries).toHaveLength(2);
    await page.screenshot({ path: shot('after-renewal'), fullPage: true });
  }, 60_000);

  it('cannot be framed by a page of an origin the embed does not allow', async () => {
    // Prepare: a valid, unused token for alice in the page of an origin that is not allowed.
    const minted = await mintEmbedUrl('alice');
    const attacker: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><title>Attacker</title><h1>Totally legit portal</h1>` +
          `<iframe id="victim" src="${minted.embedUrl}" width="900" height="500"></iframe>`,
      );
    });
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    const attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    const context = await newContext();
    const page = await context.newPage();
    const apiCalls: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/v1/')) apiCalls.push(request.url());
    });
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/frame-ancestors/.test(message.text())) cspViolations.push(message.text());
    });

    try {
      // Act
      await page.goto(attackerOrigin);
      await page.waitForTimeout(2_000);

      // Assess: the browser refused to render the viewer in the frame; nothing reached the API.
      const frames = page.frames().filter((frame) => frame !== page.mainFrame());
      expect(frames).toHaveLength(1);
      const framed = frames[0]!;
      expect(framed.url().startsWith(stack.urls.viewerOrigin)).toBe(false);
      expect(await framed.evaluate(() => document.querySelector('#embed-root') !== null).catch(() => false)).toBe(
        false,
      );
      expect(apiCalls).toEqual([]);
      expect(cspViolations.join('\n')).toMatch(/frame-ancestors/);
      await page.screenshot({ path: shot('attacker-origin-blocked'), fullPage: true });

      // The token was never redeemed: its owner can still use it.
      const opened = await callApi(stack, minted.idToken, 'POST', '/v1/embed/sessions', { token: minted.token });
      expect(opened.status).toBe(201);
    } finally {
      await new Promise<void>((done) => {
        attacker.closeAllConnections();
        attacker.close(() => done());
      });
    }
  }, 60_000);

  it('keeps tenants apart: gina (globex) sees globex data and cannot sign for the acme embed', async () => {
    // Prepare
    const context = await newContext();

    // Act
    const page = await signInToDemo(context, stack, 'gina', stack.urls.globexDemo);
    const { frame, state } = await viewerSettled(page);
    const ginaToken = await idTokenOf(stack, 'gina');
    const foreign = await callApi(stack, ginaToken, 'POST', '/v1/embed-tokens', { embedId: stack.embedIds.acme });

    // Assess
    expect(state).toBe('ready');
    await expect(frame.getByTestId('dashboard-title').textContent()).resolves.toMatch(/Globex/);
    const products = new Set(await tableColumn(frame, 'latest-sales', 'product'));
    expect([...products].every((product) => ['Turbine', 'Generator', 'Transformer'].includes(product))).toBe(true);
    expect(new Set(await tableColumn(frame, 'latest-sales', 'region'))).toEqual(new Set(['EU']));
    expect(foreign.status).toBe(404);
    await page.screenshot({ path: shot('gina-globex-dashboard'), fullPage: true });
  }, 60_000);

  it('renders the first time after at most three API calls of the viewer, whatever the number of widgets', async () => {
    // Prepare
    const context = await newContext();
    const page = await context.newPage();
    const viewerApiCalls: Request[] = [];
    page.on('request', (request) => {
      // Only the viewer frame's calls: the host page's own token request is not the viewer's.
      if (request.frame() !== page.mainFrame() && new URL(request.url()).pathname.startsWith('/v1/')) {
        viewerApiCalls.push(request);
      }
    });

    // Act: sign in and wait for the first full render (the SDK's `rendered`).
    await page.goto(stack.urls.demo);
    await page.getByTestId('login-username').fill('alice');
    await page.getByTestId('login-password').fill('Demo-alice-2025!');
    await page.getByTestId('login-submit').click();
    const { state } = await viewerSettled(page);

    // Assess: one session redemption, plus one query for all widgets unless the session carried the data.
    expect(state).toBe('ready');
    const calls = viewerApiCalls.map((request) => `${request.method()} ${new URL(request.url()).pathname}`);
    expect(calls[0]).toBe('POST /v1/embed/sessions');
    const session = (await (await viewerApiCalls[0]!.response())?.json()) as { data?: unknown };
    expect(calls).toEqual(
      session.data === undefined ? ['POST /v1/embed/sessions', 'POST /v1/embed/query'] : ['POST /v1/embed/sessions'],
    );
    expect(calls.length).toBeLessThanOrEqual(3);
  }, 60_000);
});
