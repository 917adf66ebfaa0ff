/**
 * The SDK's side of the postMessage protocol, in a real Chromium: origin A is the host page with
 * the built SDK, origin B a fake viewer that records what it receives and posts what a test
 * tells it to, origin C an attacker frame.
 */
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EMBED_PROTOCOL } from '../../web/sdk/protocol.ts';
import {
  SCREENSHOT_DIR,
  type TestServer,
  buildForTest,
  hostPageHtml,
  launchChromium,
  sendHtml,
  serveAsset,
  startServer,
} from './support.ts';

interface Received {
  origin: string;
  data: { type?: string; [key: string]: unknown };
  fromParent: boolean;
}

declare global {
  interface Window {
    received: Received[];
    sendToParent: (message: unknown, targetOrigin: string) => void;
    hostLog: { errors: { code: string; message: string }[]; ready: number; tokenRequests: number; authSent: number };
    hostControl: { nextToken: string; tokenError: boolean };
    embed: { iframe: HTMLIFrameElement; destroy(): void; refreshAccessToken(): Promise<void> };
  }
}

/** A page that records every message it receives and can post to its parent on request. */
const FAKE_VIEWER = `<!doctype html><html><body><p>fake viewer</p><script>
window.received = [];
addEventListener('message', (e) => received.push({ origin: e.origin, data: e.data, fromParent: e.source === parent }));
window.sendToParent = (message, targetOrigin) => parent.postMessage(message, targetOrigin);
</script></body></html>`;

const ID_TOKEN = 'id-token-alice';
const settle = (ms = 400) => new Promise((done) => setTimeout(done, ms));

let browser: Browser;
let build: Awaited<ReturnType<typeof buildForTest>>;
let host: TestServer;
let viewer: TestServer;
let evil: TestServer;
let page: Page;

async function frameAt(origin: string, index = 0): Promise<Frame> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const frames = page.frames().filter((frame) => frame.url().startsWith(`${origin}/`));
    const frame = frames[index];
    if (frame && (await frame.evaluate(() => Array.isArray(window.received)).catch(() => false))) return frame;
    await settle(50);
  }
  throw new Error(`no frame at ${origin}`);
}

function post(frame: Frame, message: unknown, targetOrigin: string): Promise<void> {
  return frame.evaluate(([m, t]) => window.sendToParent(m, t as string), [message, targetOrigin] as const);
}

const received = (frame: Frame) => frame.evaluate(() => window.received);
const iframeHeight = () => page.evaluate(() => window.embed.iframe.style.height);

async function addFrame(src: string): Promise<void> {
  await page.evaluate((url) => {
    const frame = document.createElement('iframe');
    frame.src = url;
    document.body.append(frame);
  }, src);
}

beforeAll(async () => {
  build = await buildForTest();
  browser = await launchChromium();
  host = await startServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://host');
    if (url.pathname === '/host.html') {
      sendHtml(
        response,
        hostPageHtml(url.searchParams.get('embed') ?? '', { idToken: ID_TOKEN, minHeight: 100, maxHeight: 800 }),
      );
    } else if (url.pathname.startsWith('/sdk/')) {
      return serveAsset(response, build.outDir, url.pathname.slice(1));
    } else {
      response.writeHead(404).end();
    }
  });
  const fakeViewer = startServer((_request, response) => sendHtml(response, FAKE_VIEWER));
  [viewer, evil] = await Promise.all([
    fakeViewer,
    startServer((_request, response) => sendHtml(response, FAKE_VIEWER)),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([host?.close(), viewer?.close(), evil?.close()]);
  await build?.cleanup();
});

beforeEach(async () => {
  await page?.close();
  page = await browser.newPage();
  const embedUrl = `${viewer.origin}/embed/sales#token=embed-token-1`;
  await page.goto(`${host.origin}/host.html?embed=${encodeURIComponent(embedUrl)}`);
  await page.waitForFunction(() => window.embed !== undefined);
});

describe('embedDashboard', () => {
  it('creates a locked-down iframe for the embed URL', async () => {
    // Act
    const attributes = await page.evaluate(() => {
      const frame = window.embed.iframe;
      return {
        sandbox: frame.getAttribute('sandbox'),
        referrerpolicy: frame.getAttribute('referrerpolicy'),
        title: frame.title,
        src: frame.src,
        height: frame.style.height,
      };
    });

    // Assess
    expect(attributes).toEqual({
      sandbox: 'allow-scripts allow-same-origin',
      referrerpolicy: 'no-referrer',
      title: 'Embedded dashboard',
      src: `${viewer.origin}/embed/sales#token=embed-token-1`,
      height: '100px',
    });
  });

  it('answers ready with the ID token, posted only to the viewer origin', async () => {
    // Prepare
    const frame = await frameAt(viewer.origin);

    // Act
    await post(frame, { protocol: EMBED_PROTOCOL, type: 'ready' }, host.origin);
    await frame.waitForFunction(() => window.received.length > 0);

    // Assess
    expect(await received(frame)).toEqual([
      { origin: host.origin, fromParent: true, data: { protocol: EMBED_PROTOCOL, type: 'auth', idToken: ID_TOKEN } },
    ]);
  });

  it('ignores every message from another origin', async () => {
    // Prepare
    await addFrame(`${evil.origin}/attacker.html`);
    const attacker = await frameAt(evil.origin);

    // Act
    for (const message of [
      { protocol: EMBED_PROTOCOL, type: 'ready' },
      { protocol: EMBED_PROTOCOL, type: 'auth-request' },
      { protocol: EMBED_PROTOCOL, type: 'resize', height: 700 },
      { protocol: EMBED_PROTOCOL, type: 'token-request', reason: 'renew' },
      { protocol: EMBED_PROTOCOL, type: 'error', code: 'EMBED_TOKEN_REVOKED', message: 'fake' },
      { protocol: EMBED_PROTOCOL, type: 'rendered' },
    ]) {
      await post(attacker, message, '*');
    }
    await settle();

    // Assess
    expect(await received(attacker)).toEqual([]);
    expect(await iframeHeight()).toBe('100px');
    expect(await page.evaluate(() => window.hostLog)).toEqual({ errors: [], ready: 0, tokenRequests: 0, authSent: 0 });
  });

  it('ignores another frame of the viewer origin that is not its iframe', async () => {
    // Prepare
    await addFrame(`${viewer.origin}/other.html`);
    const impostor = await frameAt(viewer.origin, 1);

    // Act
    await post(impostor, { protocol: EMBED_PROTOCOL, type: 'ready' }, host.origin);
    await post(impostor, { protocol: EMBED_PROTOCOL, type: 'resize', height: 650 }, host.origin);
    await post(impostor, { protocol: EMBED_PROTOCOL, type: 'token-request', reason: 'renew' }, host.origin);
    await settle();

    // Assess
    expect(await received(impostor)).toEqual([]);
    expect(await iframeHeight()).toBe('100px');
    expect(await page.evaluate(() => window.hostLog.tokenRequests)).toBe(0);
  });

  it('ignores malformed messages from the viewer', async () => {
    // Prepare
    const frame = await frameAt(viewer.origin);

    // Act
    for (const message of [
      { type: 'resize', height: 500 },
      { protocol: 'secure-embed/2', type: 'resize', height: 500 },
      { protocol: EMBED_PROTOCOL, type: 'resize', height: '500' },
      { protocol: EMBED_PROTOCOL, type: 'resize', height: Number.POSITIVE_INFINITY },
      { protocol: EMBED_PROTOCOL, type: 'token-request', reason: 'because' },
      { protocol: EMBED_PROTOCOL, type: 'error', code: '<img src=x>', message: 'x' },
      { protocol: EMBED_PROTOCOL, type: 'unknown' },
      'ready',
      null,
    ]) {
      await post(frame, message, host.origin);
    }
    await settle();

    // Assess
    expect(await received(frame)).toEqual([]);
    expect(await iframeHeight()).toBe('100px');
    expect(await page.evaluate(() => window.hostLog)).toEqual({ errors: [], ready: 0, tokenRequests: 0, authSent: 0 });
  });

  it('sizes the iframe from resize messages, clamped to its bounds', async () => {
    const frame = await frameAt(viewer.origin);

    await post(frame, { protocol: EMBED_PROTOCOL, type: 'resize', height: 312.4 }, host.origin);
    await page.waitForFunction(() => window.embed.iframe.style.height === '312px');

    await post(frame, { protocol: EMBED_PROTOCOL, type: 'resize', height: 5000 }, host.origin);
    await page.waitForFunction(() => window.embed.iframe.style.height === '800px');

    await post(frame, { protocol: EMBED_PROTOCOL, type: 'resize', height: 10 }, host.origin);
    await page.waitForFunction(() => window.embed.iframe.style.height === '100px');
  });

  it('answers token-request with a token from fetchEmbedToken', async () => {
    // Prepare
    const frame = await frameAt(viewer.origin);

    // Act
    await post(frame, { protocol: EMBED_PROTOCOL, type: 'token-request', reason: 'renew' }, host.origin);
    await frame.waitForFunction(() => window.received.length > 0);

    // Assess
    expect(await page.evaluate(() => window.hostLog.tokenRequests)).toBe(1);
    expect(await received(frame)).toEqual([
      { origin: host.origin, fromParent: true, data: { protocol: EMBED_PROTOCOL, type: 'token', token: 'renewed-1' } },
    ]);
  });

  it('tells the viewer and onError when fetchEmbedToken fails', async () => {
    // Prepare
    const frame = await frameAt(viewer.origin);
    await page.evaluate(() => {
      window.hostControl.tokenError = true;
    });

    // Act
    await post(frame, { protocol: EMBED_PROTOCOL, type: 'token-request', reason: 'renew' }, host.origin);
    await frame.waitForFunction(() => window.received.length > 0);

    // Assess
    const [message] = await received(frame);
    expect(message?.data).toMatchObject({
      protocol: EMBED_PROTOCOL,
      type: 'token-error',
      code: 'HOST_EMBED_TOKEN_FAILED',
    });
    expect(await page.evaluate(() => window.hostLog.errors.map((error) => error.code))).toEqual([
      'HOST_EMBED_TOKEN_FAILED',
    ]);
  });

  it('reports viewer errors to onError and rendering to onReady', async () => {
    const frame = await frameAt(viewer.origin);

    await post(frame, { protocol: EMBED_PROTOCOL, type: 'rendered' }, host.origin);
    await post(
      frame,
      { protocol: EMBED_PROTOCOL, type: 'error', code: 'EMBED_TOKEN_IDENTITY_MISMATCH', message: 'Not yours.' },
      host.origin,
    );
    await page.waitForFunction(() => window.hostLog.errors.length > 0);

    expect(await page.evaluate(() => window.hostLog)).toMatchObject({
      ready: 1,
      errors: [{ code: 'EMBED_TOKEN_IDENTITY_MISMATCH', message: 'Not yours.' }],
    });
  });

  it('answers auth-request and refreshAccessToken with a fresh auth message', async () => {
    const frame = await frameAt(viewer.origin);

    await post(frame, { protocol: EMBED_PROTOCOL, type: 'auth-request' }, host.origin);
    await page.evaluate(() => window.embed.refreshAccessToken());
    await frame.waitForFunction(() => window.received.length === 2);

    expect((await received(frame)).map((message) => message.data.type)).toEqual(['auth', 'auth']);
  });

  it('sends nothing once its iframe has been navigated to another origin', async () => {
    // Prepare: the frame is taken over (e.g. by a redirect) and now shows the attacker's page.
    const frame = await frameAt(viewer.origin);
    await frame.evaluate((url) => {
      window.location.href = url;
    }, `${evil.origin}/takeover.html`);
    const attacker = await frameAt(evil.origin);

    // Act
    await post(attacker, { protocol: EMBED_PROTOCOL, type: 'ready' }, host.origin);
    await post(attacker, { protocol: EMBED_PROTOCOL, type: 'token-request', reason: 'renew' }, host.origin);
    await page.evaluate(() => window.embed.refreshAccessToken());
    await settle();

    // Assess: the attacker page got neither the ID token nor an embed token.
    expect(await received(attacker)).toEqual([]);
    expect(await page.evaluate(() => window.hostLog.tokenRequests)).toBe(0);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'sdk-host-after-takeover.png') });
  });

  it('refuses an embed URL that carries a token in its query string', async () => {
    // A string, not a function: the test runner would rewrite a dynamic import() inside a function.
    const message = await page.evaluate(`(async () => {
      const { embedDashboard } = await import('/sdk/index.js');
      try {
        embedDashboard({
          container: document.body,
          embedUrl: 'https://viewer.example.com/embed/x?token=abc',
          getAccessToken: () => 'x',
          fetchEmbedToken: () => 'y',
          onError: () => undefined,
        });
        return 'accepted';
      } catch (error) {
        return error.message;
      }
    })()`);

    expect(message).toMatch(/query string/);
  });

  it('destroy removes the iframe and stops listening', async () => {
    const frame = await frameAt(viewer.origin);
    await post(frame, { protocol: EMBED_PROTOCOL, type: 'resize', height: 300 }, host.origin);
    await page.waitForFunction(() => window.embed.iframe.style.height === '300px');

    await page.evaluate(() => window.embed.destroy());

    expect(await page.evaluate(() => document.querySelectorAll('iframe').length)).toBe(0);
    expect(await page.evaluate(() => window.embed.iframe.isConnected)).toBe(false);
  });
});
