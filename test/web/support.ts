/**
 * Shared plumbing of the browser tests: a real headless Chromium (playwright-core), tiny
 * node:http servers on 127.0.0.1 (each port is its own origin), and a one-off web build.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildWeb, webAssetPath, webContentType } from '../../web/build.ts';

import { CHROMIUM_PATH, launchHeadlessChromium } from '../../local/chromium.ts';

export { CHROMIUM_PATH };

/** Screenshots land here (gitignored). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '..', '..', 'test-results', 'web');

/** Launches Chromium; fails with instructions (never silently skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return launchHeadlessChromium();
}

/** Builds the web bundles into a temporary directory; `cleanup` removes it. */
export async function buildForTest(): Promise<{ outDir: string; cleanup: () => Promise<void> }> {
  const outDir = await mkdtemp(join(tmpdir(), 'secure-embed-web-'));
  await buildWeb({ outDir });
  return { outDir, cleanup: () => rm(outDir, { recursive: true, force: true }) };
}

export interface TestServer {
  readonly origin: string;
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void | Promise<void>;

/** An HTTP server on a free 127.0.0.1 port. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      Promise.resolve(handler(request, response, Buffer.concat(chunks).toString('utf8'))).catch((error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(String(error));
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** Serves one built asset (`name` relative to the build output) or answers 404. */
export async function serveAsset(response: ServerResponse, outDir: string, name: string): Promise<void> {
  const path = webAssetPath(name, outDir);
  const type = path ? webContentType(path) : undefined;
  if (!path || !type || !existsSync(path)) {
    response.writeHead(404, { 'Content-Type': 'text/plain' });
    response.end('not found');
    return;
  }
  response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(await readFile(path));
}

export function sendHtml(response: ServerResponse, html: string, headers: Record<string, string> = {}): void {
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  response.end(html);
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

/**
 * The host page used by both browser suites: loads the built SDK from its own origin and embeds
 * `embedUrl` with callbacks the test can observe through `window.hostLog` and steer through
 * `window.hostControl`.
 */
export function hostPageHtml(
  embedUrl: string,
  options: { idToken: string; minHeight?: number; maxHeight?: number },
): string {
  const settings = JSON.stringify({ embedUrl, ...options }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host</title>
<style>body{margin:0;font-family:system-ui,sans-serif;background:#eef1f5}header{padding:12px 20px;background:#fff;border-bottom:1px solid #dde2ea;font-weight:700}#frame{max-width:1100px;margin:16px auto;border:1px solid #dde2ea;border-radius:12px;overflow:hidden}</style>
</head><body><header>Acme Portal (test host)</header><div id="frame"></div>
<script type="module">
import { embedDashboard } from '/sdk/index.js';
const settings = ${settings};
window.hostLog = { errors: [], ready: 0, tokenRequests: 0, authSent: 0 };
window.hostControl = { nextToken: 'renewed-1', tokenError: false };
window.embed = embedDashboard({
  container: document.getElementById('frame'),
  embedUrl: settings.embedUrl,
  minHeight: settings.minHeight,
  maxHeight: settings.maxHeight,
  getAccessToken: async () => { window.hostLog.authSent++; return settings.idToken; },
  fetchEmbedToken: async () => {
    window.hostLog.tokenRequests++;
    if (window.hostControl.tokenError) throw new Error('backend down');
    return window.hostControl.nextToken;
  },
  onError: (error) => window.hostLog.errors.push(error),
  onReady: () => window.hostLog.ready++,
});
</script></body></html>`;
}
