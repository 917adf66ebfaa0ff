/**
 * Failure paths as solid as the happy path, over HTTP through the local gateway: with DynamoDB
 * Local stopped or paused, signing, redeeming and querying answer a clean 503
 * `DEPENDENCY_UNAVAILABLE` (with `Retry-After` and the request id) inside each function's own
 * timeout, never a 500 or a hang; once it is back, the same running handlers succeed with no
 * restart, and a token refused while DynamoDB was down was not burned.
 *
 * This file runs its own DynamoDB Local (on disk, so a restart keeps the data) so that stopping
 * and pausing it touches no other test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_TIMEOUTS } from '#shared/clients';
import { FUNCTION_SPECS } from '../../lib/functions.ts';
import type { DevStack } from '../../local/dev.ts';
import { freePort, type LocalDynamo, startDynamoLocal } from '../../local/dynamodb.ts';
import { idTokenOf, startE2eStack } from '../e2e/support.ts';

let dbDir: string;
let port: number;
let dynamo: LocalDynamo | undefined;
let paused: number | undefined;
let stack: DevStack;
let cleanup: (() => Promise<void>) | undefined;
let alice: string;
let embedId: string;

beforeAll(async () => {
  dbDir = await mkdtemp(join(tmpdir(), 'secure-embed-dynamo-'));
  port = await freePort();
  dynamo = await startDynamoLocal({ port, dbPath: dbDir });
  const started = await startE2eStack({ dynamoEndpoint: dynamo.endpoint });
  stack = started.stack;
  cleanup = started.cleanup;
  embedId = stack.embedIds.acme as string;
  alice = await idTokenOf(stack, 'alice');
}, 240_000);

afterAll(async () => {
  if (paused !== undefined) process.kill(paused, 'SIGCONT');
  await cleanup?.();
  await dynamo?.stop();
  await rm(dbDir, { recursive: true, force: true });
}, 60_000);

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
  readonly elapsedMs: number;
}

async function send(path: string, body: unknown): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${stack.urls.api}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: alice },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    elapsedMs: performance.now() - started,
  };
}

const sign = () => send('/v1/embed-tokens', { embedId });
const redeem = (token: unknown) => send('/v1/embed/sessions', { token });
const query = (sessionId: unknown) =>
  send('/v1/embed/query', { sessionId, embedId, params: { dateRange: { from: '2025-01-01', to: '2025-03-31' } } });

/** A live session and an unredeemed token of alice, made while DynamoDB is up. */
async function prepare(): Promise<{ sessionId: string; spareToken: string }> {
  const first = await sign();
  expect(first.status).toBe(201);
  const opened = await redeem(first.body.token);
  expect(opened.status).toBe(201);
  const spare = await sign();
  expect(spare.status).toBe(201);
  return { sessionId: opened.body.sessionId as string, spareToken: spare.body.token as string };
}

/** The exact 503 every function answers when DynamoDB cannot be reached. */
function expectUnavailable(answer: Answer): void {
  const requestId = answer.headers.get('x-amzn-requestid');
  expect({ status: answer.status, body: answer.body, retryAfter: answer.headers.get('retry-after') }).toEqual({
    status: 503,
    body: {
      code: 'DEPENDENCY_UNAVAILABLE',
      message: 'A dependency is temporarily unavailable; try again.',
      requestId,
    },
    retryAfter: '2',
  });
}

/** The JVM serving this file's DynamoDB Local. */
function dynamoJavaPid(): number {
  const out = execFileSync('pgrep', ['-f', `^java .*DynamoDBLocal.jar -port ${port} `], { encoding: 'utf8' });
  const pids = out.trim().split('\n').map(Number);
  expect(pids).toHaveLength(1);
  return pids[0] as number;
}

describe('DynamoDB unavailable', () => {
  it('stopped: sign, redeem and query answer 503 with Retry-After; back again, the same handlers succeed', async () => {
    // Prepare
    const { sessionId, spareToken } = await prepare();
    await dynamo?.stop();
    dynamo = undefined;
    // Act
    const down = { sign: await sign(), redeem: await redeem(spareToken), query: await query(sessionId) };
    dynamo = await startDynamoLocal({ port, dbPath: dbDir });
    const back = { sign: await sign(), redeem: await redeem(spareToken), query: await query(sessionId) };
    // Assess
    expectUnavailable(down.sign);
    expectUnavailable(down.redeem);
    expectUnavailable(down.query);
    expect(back.sign.status).toBe(201);
    // Refused while DynamoDB was down, the token was not burned: it opens its session now.
    expect(back.redeem.status).toBe(201);
    expect(back.query.status).toBe(200);
    expect(Object.keys(back.query.body.widgets as object).length).toBeGreaterThan(0);
  }, 120_000);

  it('paused longer than any budget: 503 inside each function timeout; resumed, success with no restart', async () => {
    // Prepare
    const { sessionId, spareToken } = await prepare();
    paused = dynamoJavaPid();
    process.kill(paused, 'SIGSTOP');
    // Act: the three calls at once, all while DynamoDB stays frozen.
    const [signed, redeemed, queried] = await Promise.all([sign(), redeem(spareToken), query(sessionId)]);
    process.kill(paused, 'SIGCONT');
    paused = undefined;
    // A redemption whose answer was lost may still land once DynamoDB wakes (as on AWS after a
    // timeout), so the viewer gets a fresh token, as the SDK's renewal does after any failure.
    const fresh = await sign();
    const back = { sign: fresh, redeem: await redeem(fresh.body.token), query: await query(sessionId) };
    // Assess: a clean 503, before the function's own timeout (and far before API Gateway's 29 s).
    const budgets = {
      sign: [signed, FUNCTION_SPECS['embed-tokens'].timeoutSeconds],
      redeem: [redeemed, FUNCTION_SPECS['embed-sessions'].timeoutSeconds],
      query: [queried, FUNCTION_SPECS['embed-query'].timeoutSeconds],
    } as const;
    for (const [answer, timeoutSeconds] of Object.values(budgets)) {
      expectUnavailable(answer);
      expect(answer.elapsedMs).toBeLessThan(timeoutSeconds * 1000);
      // The clients' own timeouts end it (attempts × request timeout plus backoff), well before the
      // handler's deadline backstop (timeout − 1.5 s).
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(DYNAMODB_TIMEOUTS.requestTimeoutMs);
      expect(answer.elapsedMs).toBeLessThan(
        DYNAMODB_TIMEOUTS.maxAttempts * (DYNAMODB_TIMEOUTS.requestTimeoutMs + 1_000) + 2_000,
      );
    }
    expect(back.sign.status).toBe(201);
    expect(back.redeem.status).toBe(201);
    expect(back.query.status).toBe(200);
  }, 180_000);
});
