/**
 * Shared plumbing of the browser end-to-end suite: the dev stack in this process, a real
 * headless Chromium, sign-in through the demo host app, access to the viewer iframe, and direct
 * API calls for the steps a test prepares outside the browser (short-lived or revoked tokens).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { inject } from 'vitest';
import { type DevStack, startDevStack } from '../../local/dev.ts';
import type { DemoUser } from '../../local/seed.ts';

export { launchChromium } from '../web/support.ts';

/** Screenshots of key states (gitignored). */
export const E2E_SCREENSHOT_DIR = resolve(import.meta.dirname, '..', '..', 'test-results', 'e2e');

/** Selector of the viewer iframe that the demo app's SDK puts into its container. */
export const VIEWER_IFRAME = '[data-testid="embed-container"] iframe';

/**
 * Starts the dev stack for one test file: a free port, quiet, its own web build, and the suite's
 * DynamoDB Local (vitest global setup) with tables of its own, so no second JVM has to start
 * (a test that stops or pauses DynamoDB passes its own `dynamoEndpoint`).
 */
export async function startE2eStack(
  options: { dynamoEndpoint?: string } = {},
): Promise<{ stack: DevStack; cleanup: () => Promise<void> }> {
  const webOutDir = await mkdtemp(join(tmpdir(), 'secure-embed-e2e-web-'));
  await mkdir(E2E_SCREENSHOT_DIR, { recursive: true });
  const stack = await startDevStack({
    port: 0,
    quiet: true,
    webOutDir,
    dynamoEndpoint: options.dynamoEndpoint ?? inject('dynamoEndpoint'),
    tablePrefix: `e2e-${process.pid}-${Date.now().toString(36)}`,
  });
  return {
    stack,
    cleanup: async () => {
      await stack.stop();
      await rm(webOutDir, { recursive: true, force: true });
    },
  };
}

/** The seeded demo user with this name. */
export function demoUser(stack: DevStack, username: string): DemoUser {
  const user = stack.users.find((candidate) => candidate.username === username);
  if (!user) throw new Error(`No demo user ${username}`);
  return user;
}

/** Signs in through the demo app's login page and waits for its dashboard page. */
export async function signInToDemo(
  context: BrowserContext,
  stack: DevStack,
  username: string,
  demoUrl = stack.urls.demo,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(demoUrl);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(demoUser(stack, username).password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/dashboard\.html$/);
  return page;
}

/** The viewer iframe's frame, once it exists. */
export async function viewerFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector(VIEWER_IFRAME);
  for (let attempt = 0; attempt < 50; attempt++) {
    const frame = await handle.contentFrame();
    if (frame?.url().startsWith('http')) return frame;
    await page.waitForTimeout(100);
  }
  throw new Error('The viewer iframe never navigated');
}

/**
 * Waits until the viewer has either rendered the dashboard WITH its data (the demo app shows
 * "Dashboard loaded." when the SDK reports `rendered`) or shows an error; returns which.
 */
export async function viewerSettled(page: Page, timeoutMs = 20_000): Promise<{ frame: Frame; state: string }> {
  const frame = await viewerFrame(page);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await frame.evaluate(() => document.body.dataset.state ?? '').catch(() => '');
    if (state === 'error') return { frame, state };
    if (state === 'ready' && (await page.getByTestId('status').textContent()) === 'Dashboard loaded.') {
      return { frame, state };
    }
    if (Date.now() > deadline) throw new Error(`The viewer did not settle (state "${state}")`);
    await page.waitForTimeout(50);
  }
}

/** The cells of one column of a table widget, located by its header text. */
export async function tableColumn(frame: Frame, widgetId: string, column: string): Promise<string[]> {
  return frame.evaluate(
    ({ widgetId: id, column: name }) => {
      const table = document.querySelector(`[data-testid="widget-${id}"] table`);
      if (!table) return [];
      const headers = [...table.querySelectorAll('thead th')].map((th) => (th.textContent ?? '').trim().toLowerCase());
      const index = headers.indexOf(name.toLowerCase());
      if (index < 0) throw new Error(`no column ${name} in ${headers.join(', ')}`);
      return [...table.querySelectorAll('tbody tr')].map((tr) => (tr.children[index]?.textContent ?? '').trim());
    },
    { widgetId, column },
  );
}

/** Sets both ends of the viewer's date range control in one go (one debounced query). */
export async function setDateRange(frame: Frame, from: string, to: string): Promise<void> {
  await frame.evaluate(
    ({ from: fromValue, to: toValue }) => {
      const set = (testId: string, value: string) => {
        const input = document.querySelector<HTMLInputElement>(`[data-testid="${testId}"]`);
        if (!input) throw new Error(`no ${testId}`);
        input.value = value;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      };
      set('control-dateRange-from', fromValue);
      set('control-dateRange-to', toValue);
    },
    { from, to },
  );
}

/** A JSON API call as a host app's backend would make it, with a user's Cognito ID token. */
export async function callApi(
  stack: DevStack,
  idToken: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.urls.api}${path}`, {
    method,
    headers: { Authorization: idToken, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Signs in a demo user directly against cognito-local; returns the ID token (the API credential). */
export async function idTokenOf(stack: DevStack, username: string): Promise<string> {
  return (await stack.login(username, demoUser(stack, username).password)).idToken;
}

/** The claims of a JWT (test-side inspection only; the API verifies). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
