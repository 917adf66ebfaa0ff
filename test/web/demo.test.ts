/**
 * The demo host app in a real Chromium, against the endpoints the dev server provides
 * (`/demo/*`, `/demo/config.json`, `/demo-auth/login`) and a fake API on another origin that
 * binds each embed token to the user it was issued to. Walks the attack the demo exists for:
 * Bob pastes a URL issued to Alice and the viewer refuses it.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCspNonce, renderViewerPage } from '../../functions/viewer/render-viewer-page.ts';
import {
  SCREENSHOT_DIR,
  type TestServer,
  buildForTest,
  launchChromium,
  sendJson,
  serveAsset,
  startServer,
} from './support.ts';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An unsigned JWT-shaped stand-in for a Cognito ID token; the fake API only reads its user name. */
const fakeIdToken = (user: string) =>
  `${base64url({ alg: 'none' })}.${base64url({ 'cognito:username': user, 'custom:tenant_id': 'acme' })}.sig`;
const userOf = (idToken: string | undefined) => {
  try {
    return JSON.parse(Buffer.from(idToken?.split('.')[1] ?? '', 'base64url').toString())['cognito:username'] as string;
  } catch {
    return undefined;
  }
};

const PASSWORDS: Record<string, string> = { alice: 'Alice-pass-1', bob: 'Bob-pass-1' };

let browser: Browser;
let build: Awaited<ReturnType<typeof buildForTest>>;
let demo: TestServer;
let api: TestServer;
let issued = 0;

beforeAll(async () => {
  build = await buildForTest();
  browser = await launchChromium();
  demo = await startServer((request, response, body) => {
    const url = new URL(request.url ?? '/', 'http://demo');
    if (url.pathname === '/demo-auth/login' && request.method === 'POST') {
      const { username, password } = JSON.parse(body) as { username: string; password: string };
      if (PASSWORDS[username] !== password) {
        return sendJson(response, 401, { code: 'NOT_AUTHORIZED', message: 'Incorrect username or password.' });
      }
      return sendJson(response, 200, { idToken: fakeIdToken(username), accessToken: 'access', expiresIn: 3600 });
    }
    if (url.pathname === '/demo/config.json') {
      return sendJson(response, 200, { apiBaseUrl: api.origin, embedId: 'sales' });
    }
    if (url.pathname === '/demo/') return serveAsset(response, build.outDir, 'demo/index.html');
    return serveAsset(response, build.outDir, url.pathname.slice(1));
  });
  api = await startServer((request, response, body) => {
    const url = new URL(request.url ?? '/', 'http://api');
    const cors = {
      'Access-Control-Allow-Origin': demo.origin,
      'Access-Control-Allow-Headers': 'Authorization, Content-Type',
      'Access-Control-Allow-Methods': 'POST',
    };
    if (request.method === 'OPTIONS') {
      response.writeHead(204, cors).end();
      return;
    }
    if (request.method === 'GET' && url.pathname === '/embed/sales') {
      const page = renderViewerPage({
        embedId: 'sales',
        allowedOrigins: [demo.origin],
        apiBaseUrl: api.origin,
        assetBaseUrl: `${api.origin}/assets`,
        nonce: createCspNonce(),
      });
      response.writeHead(page.status, page.headers).end(page.body);
      return;
    }
    if (request.method === 'GET' && url.pathname.startsWith('/assets/')) {
      return serveAsset(response, build.outDir, `viewer/${url.pathname.slice('/assets/'.length)}`);
    }
    const user = userOf(request.headers.authorization);
    const send = (status: number, payload: unknown) => {
      response.writeHead(status, { 'Content-Type': 'application/json', ...cors });
      response.end(JSON.stringify(payload));
    };
    if (!user) return send(401, { code: 'UNAUTHENTICATED', message: 'Authentication is required.' });
    const payload = JSON.parse(body || '{}') as { token?: string };
    if (url.pathname === '/v1/embed-tokens') {
      const token = `emb-${user}-${++issued}`;
      return send(201, {
        token,
        expiresAt: Date.now() + 300_000,
        embedUrl: `${api.origin}/embed/sales#token=${token}`,
      });
    }
    if (url.pathname === '/v1/embed/sessions') {
      if (!payload.token?.startsWith(`emb-${user}-`)) {
        return send(403, { code: 'EMBED_TOKEN_IDENTITY_MISMATCH', message: 'This embed was not issued to you.' });
      }
      return send(201, {
        sessionId: `sess-${payload.token}`,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        embed: { id: 'sales', allowedOrigins: [demo.origin] },
        dashboard: {
          id: 'd',
          title: 'Sales overview',
          widgets: [
            { id: 'revenue', type: 'number', title: 'Revenue' },
            { id: 'orders', type: 'bar', title: 'Orders by region' },
          ],
        },
        parameters: [{ name: 'region', type: 'string', label: 'Region', allowedValues: ['EU', 'US'], value: 'EU' }],
        data: {
          widgets: {
            revenue: { columns: ['revenue'], rows: [[125_400]], truncated: false },
            orders: {
              columns: ['region', 'orders'],
              rows: [
                ['EU', 320],
                ['US', 270],
              ],
              truncated: false,
            },
          },
          parameters: { region: 'EU' },
        },
      });
    }
    sendJson(response, 404, { code: 'NOT_FOUND', message: 'Not found.' });
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([demo?.close(), api?.close()]);
  await build?.cleanup();
});

async function signIn(context: BrowserContext, user: string, password: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${demo.origin}/demo/`);
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  return page;
}

describe('demo host app', () => {
  it('refuses a wrong password with the message from the login endpoint', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, 'alice', 'wrong');

    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('login-error').textContent()).toBe('Incorrect username or password.');
    await context.close();
  });

  it("signs in, embeds the user's dashboard, and refuses another user's pasted URL", async () => {
    // Prepare: Alice signs in and sees her dashboard; she takes an unused URL of hers.
    const aliceContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const alice = await signIn(aliceContext, 'alice', PASSWORDS.alice ?? '');
    await alice.waitForURL(/dashboard\.html$/);
    const aliceFrame = alice.frameLocator('iframe');
    await aliceFrame.getByTestId('dashboard').waitFor();
    expect(await alice.getByTestId('user').textContent()).toBe('alice · acme');
    expect(await alice.getByTestId('current-url').inputValue()).toMatch(/\/embed\/sales#token=emb-alice-\d+$/);
    await alice.getByTestId('mint-url').click();
    await expect.poll(() => alice.getByTestId('spare-url').inputValue()).toMatch(/#token=emb-alice-/);
    const stolenUrl = await alice.getByTestId('spare-url').inputValue();
    await alice.screenshot({ path: join(SCREENSHOT_DIR, 'demo-dashboard.png'), fullPage: true });

    // Act: Bob, in his own session, pastes Alice's URL.
    const bobContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const bob = await signIn(bobContext, 'bob', PASSWORDS.bob ?? '');
    await bob.waitForURL(/dashboard\.html$/);
    await bob.frameLocator('iframe').getByTestId('dashboard').waitFor();
    await bob.getByTestId('paste-url').fill(stolenUrl);
    await bob.getByTestId('paste-submit').click();

    // Assess
    const error = bob.frameLocator('iframe').getByTestId('error');
    await error.waitFor();
    expect(await error.getAttribute('data-error-code')).toBe('EMBED_TOKEN_IDENTITY_MISMATCH');
    expect(await bob.frameLocator('iframe').getByTestId('error-title').textContent()).toBe(
      'This dashboard was not issued to you.',
    );
    expect(await bob.getByTestId('current-url').inputValue()).toBe(stolenUrl);
    await expect.poll(() => bob.getByTestId('status').textContent()).toContain('EMBED_TOKEN_IDENTITY_MISMATCH');
    await bob.screenshot({ path: join(SCREENSHOT_DIR, 'demo-pasted-url-refused.png'), fullPage: true });

    await Promise.all([aliceContext.close(), bobContext.close()]);
  });
});
