/**
 * API contracts tested where the caller meets them: real HTTP requests through the local gateway
 * (Cognito authorizer emulation, request validator, gateway responses) to the real handlers,
 * with real cognito-local ID tokens, DynamoDB Local (the suite's, from the global setup), the
 * local Secrets Manager and STS. A schema library between the wire and the domain can change the
 * input (zod drops a `__proto__` key from a record), so a rule promised for the HTTP API is
 * asserted here on the exact status, body and request id, not only on the function behind it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../local/dev.ts';
import { DEMO_DASHBOARD_ID } from '../../local/seed.ts';
import { idTokenOf, startE2eStack } from '../e2e/support.ts';

let stack: DevStack;
let cleanup: (() => Promise<void>) | undefined;
/** ID tokens of the seeded acme users: a plain viewer and a tenant admin. */
let alice: string;
let admin: string;
let embedId: string;

beforeAll(async () => {
  const started = await startE2eStack();
  stack = started.stack;
  cleanup = started.cleanup;
  embedId = stack.embedIds.acme as string;
  [alice, admin] = await Promise.all([idTokenOf(stack, 'alice'), idTokenOf(stack, 'acme-admin')]);
}, 180_000);

afterAll(async () => {
  await cleanup?.();
}, 60_000);

interface Answer {
  readonly status: number;
  /** `x-amzn-requestid`: the id API Gateway gives the request. */
  readonly requestId: string | null;
  readonly body: Record<string, unknown>;
}

/** One API call with the body sent exactly as given (JSON text), as a host app's backend would. */
async function send(method: string, path: string, idToken: string | undefined, rawBody?: string): Promise<Answer> {
  const response = await fetch(`${stack.urls.api}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(idToken ? { Authorization: idToken } : {}) },
    ...(rawBody === undefined ? {} : { body: rawBody }),
  });
  const text = await response.text();
  return {
    status: response.status,
    requestId: response.headers.get('x-amzn-requestid'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Asserts the exact error answer, whose `requestId` must be the gateway's request id. */
function expectError(answer: Answer, status: number, error: { code: string; message: string; details?: object }) {
  expect(answer.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect({ status: answer.status, body: answer.body }).toEqual({
    status,
    body: { ...error, requestId: answer.requestId },
  });
}

/** A live session of alice on the acme sales embed. */
async function openSession(): Promise<string> {
  const issued = await send('POST', '/v1/embed-tokens', alice, JSON.stringify({ embedId }));
  expect(issued.status).toBe(201);
  const opened = await send('POST', '/v1/embed/sessions', alice, JSON.stringify({ token: issued.body.token }));
  expect(opened.status).toBe(201);
  return opened.body.sessionId as string;
}

const JANUARY = '{"from":"2025-01-01","to":"2025-01-31"}';
const unknownParameter = (name: string) => ({
  code: 'PARAM_UNKNOWN',
  message: `Unknown parameter "${name}".`,
  details: { parameter: name },
});

describe('parameter names that are Object.prototype members are unknown parameters', () => {
  // Written as JSON text: JSON.parse makes `__proto__` an own key, an object literal would not.
  const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

  it.each(names)('POST /v1/embed-tokens refuses the parameter %s with 400 PARAM_UNKNOWN naming it', async (name) => {
    // Act
    const answer = await send('POST', '/v1/embed-tokens', alice, `{"embedId":"${embedId}","params":{"${name}":"x"}}`);

    // Assess
    expectError(answer, 400, unknownParameter(name));
  });

  it('POST /v1/embed-tokens refuses a __proto__ parameter whose value is an object', async () => {
    const answer = await send(
      'POST',
      '/v1/embed-tokens',
      alice,
      `{"embedId":"${embedId}","params":{"__proto__":${JANUARY}}}`,
    );
    expectError(answer, 400, unknownParameter('__proto__'));
  });

  it.each(names)('POST /v1/embed/query refuses the parameter %s with 400 PARAM_UNKNOWN naming it', async (name) => {
    // Prepare
    const sessionId = await openSession();

    // Act
    const answer = await send(
      'POST',
      '/v1/embed/query',
      alice,
      `{"sessionId":"${sessionId}","embedId":"${embedId}","params":{"dateRange":${JANUARY},"${name}":${JANUARY}}}`,
    );

    // Assess
    expectError(answer, 400, unknownParameter(name));
  });

  it('POST /v1/embed/query answers the same session with data when only declared parameters are sent', async () => {
    // Prepare
    const sessionId = await openSession();

    // Act
    const answer = await send(
      'POST',
      '/v1/embed/query',
      alice,
      `{"sessionId":"${sessionId}","embedId":"${embedId}","params":{"dateRange":${JANUARY}}}`,
    );

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.parameters).toEqual({ dateRange: JSON.parse(JANUARY) });
  });

  it('POST /v1/admin/embeds does not drop a __proto__ parameter mode: the dashboard declares no such parameter', async () => {
    // Act
    const answer = await send(
      'POST',
      '/v1/admin/embeds',
      admin,
      `{"embedId":"proto-modes","resource":{"type":"dashboard","id":"${DEMO_DASHBOARD_ID}"},"allowedOrigins":[],"parameterModes":{"__proto__":"editable"}}`,
    );

    // Assess
    expectError(answer, 404, {
      code: 'NOT_FOUND',
      message: 'The parameter "__proto__" was not found.',
      details: { resource: 'parameter "__proto__"' },
    });
  });
});

describe('the documented bounds are the enforced ones', () => {
  const openapi = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
  const bodyOf = (path: string) => openapi.paths[path].post.requestBody.content['application/json'].schema;
  const maxLifetime = bodyOf('/v1/embed-tokens').properties.lifetimeSeconds.maximum as number;
  const maxEmbedLifetime = bodyOf('/v1/admin/embeds').properties.maxTokenLifetimeSeconds.maximum as number;

  it('POST /v1/embed-tokens signs for the documented maximum lifetime and refuses one second more', async () => {
    // Act (the seeded embed allows the hard cap)
    const longest = await send(
      'POST',
      '/v1/embed-tokens',
      alice,
      JSON.stringify({ embedId, lifetimeSeconds: maxLifetime }),
    );
    const tooLong = await send(
      'POST',
      '/v1/embed-tokens',
      alice,
      JSON.stringify({ embedId, lifetimeSeconds: maxLifetime + 1 }),
    );

    // Assess
    expect(longest.status).toBe(201);
    const claims = JSON.parse(
      Buffer.from((longest.body.token as string).split('.')[1] as string, 'base64url').toString(),
    );
    expect(claims.exp - claims.iat).toBe(maxLifetime);
    expectError(tooLong, 400, {
      code: 'VALIDATION_FAILED',
      message: `Invalid request: "lifetimeSeconds" is too big (maximum ${maxLifetime}).`,
      details: { field: 'lifetimeSeconds', reason: `is too big (maximum ${maxLifetime})` },
    });
  });

  it('POST /v1/admin/embeds accepts the documented maximum token lifetime and refuses one second more', async () => {
    // Prepare
    const embed = (id: string, seconds: number) =>
      JSON.stringify({
        embedId: id,
        resource: { type: 'dashboard', id: DEMO_DASHBOARD_ID },
        allowedOrigins: [],
        maxTokenLifetimeSeconds: seconds,
      });

    // Act
    const longest = await send('POST', '/v1/admin/embeds', admin, embed('longest-tokens', maxEmbedLifetime));
    const tooLong = await send('POST', '/v1/admin/embeds', admin, embed('too-long-tokens', maxEmbedLifetime + 1));

    // Assess
    expect(longest.status).toBe(201);
    expect(longest.body.maxTokenLifetimeSeconds).toBe(maxEmbedLifetime);
    expectError(tooLong, 400, {
      code: 'VALIDATION_FAILED',
      message: `Invalid request: "maxTokenLifetimeSeconds" is too big (maximum ${maxEmbedLifetime}).`,
      details: { field: 'maxTokenLifetimeSeconds', reason: `is too big (maximum ${maxEmbedLifetime})` },
    });
  });

  it('POST /v1/admin/embeds refuses an embed id that an embed token could not carry', async () => {
    // Act
    const answer = await send(
      'POST',
      '/v1/admin/embeds',
      admin,
      JSON.stringify({ embedId: '-sales', resource: { type: 'dashboard', id: DEMO_DASHBOARD_ID }, allowedOrigins: [] }),
    );

    // Assess
    expectError(answer, 400, {
      code: 'VALIDATION_FAILED',
      message: 'Invalid request: "embedId" must be an id starting with a letter or digit.',
      details: { field: 'embedId', reason: 'must be an id starting with a letter or digit' },
    });
  });
});

describe('every error body carries the request id', () => {
  it('malformed JSON is refused by the gateway with 400 VALIDATION_FAILED and its request id', async () => {
    // Act
    const answer = await send('POST', '/v1/embed-tokens', alice, `{"embedId":"${embedId}",`);

    // Assess
    expectError(answer, 400, {
      code: 'VALIDATION_FAILED',
      message: 'Invalid request: the body must be a JSON object.',
    });
  });

  it('a request without an ID token is refused by the gateway with 401 and its request id', async () => {
    const answer = await send('POST', '/v1/embed-tokens', undefined, JSON.stringify({ embedId }));
    expectError(answer, 401, { code: 'UNAUTHENTICATED', message: 'Authentication is required.' });
  });

  it('an unknown route is answered by the gateway with its message and request id', async () => {
    const answer = await send('GET', '/v1/nothing-here', alice);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ message: 'Missing Authentication Token', requestId: answer.requestId });
  });

  it("a handler's error carries the request id API Gateway gave the request", async () => {
    const answer = await send('POST', '/v1/embed-tokens', alice, JSON.stringify({ embedId: 'no-such-embed' }));
    expectError(answer, 404, {
      code: 'NOT_FOUND',
      message: 'The embed was not found.',
      details: { resource: 'embed' },
    });
  });
});

describe('a refused enum value is answered with the allowed values', () => {
  it('POST /v1/admin/revocations with an unknown scope lists the scopes', async () => {
    // Act
    const answer = await send('POST', '/v1/admin/revocations', admin, JSON.stringify({ scope: 'nope' }));

    // Assess
    expectError(answer, 400, {
      code: 'VALIDATION_FAILED',
      message: 'Invalid request: "scope" must be one of "token", "user", "embed".',
      details: { field: 'scope', reason: 'must be one of "token", "user", "embed"' },
    });
  });

  it('POST /v1/admin/revocations without a scope says it is required and lists the scopes', async () => {
    const answer = await send('POST', '/v1/admin/revocations', admin, '{}');
    expectError(answer, 400, {
      code: 'VALIDATION_FAILED',
      message: 'Invalid request: "scope" is required (one of "token", "user", "embed").',
      details: { field: 'scope', reason: 'is required (one of "token", "user", "embed")' },
    });
  });

  it('POST /v1/admin/embeds with an unknown resource type lists the types', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/embeds',
      admin,
      JSON.stringify({ embedId: 'report', resource: { type: 'report', id: DEMO_DASHBOARD_ID }, allowedOrigins: [] }),
    );
    expectError(answer, 400, {
      code: 'VALIDATION_FAILED',
      message: 'Invalid request: "resource.type" must be one of "dashboard", "chart".',
      details: { field: 'resource.type', reason: 'must be one of "dashboard", "chart"' },
    });
  });

  it('POST /v1/admin/datasets/{datasetId}/imports with an unknown format lists the formats', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/datasets/sales/imports',
      admin,
      JSON.stringify({ format: 'xml', content: '<rows/>' }),
    );
    expectError(answer, 400, {
      code: 'VALIDATION_FAILED',
      message: 'Invalid request: "format" must be one of "csv", "json", "ndjson".',
      details: { field: 'format', reason: 'must be one of "csv", "json", "ndjson"' },
    });
  });
});

describe('a revocation must name something the tenant has', () => {
  it('POST /v1/admin/revocations refuses a sub that is no user of any tenant with 404', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/revocations',
      admin,
      JSON.stringify({ scope: 'user', sub: '00000000-0000-4000-8000-00000000dead' }),
    );
    expectError(answer, 404, { code: 'NOT_FOUND', message: 'The user was not found.', details: { resource: 'user' } });
  });

  it("POST /v1/admin/revocations refuses another tenant's user with the same 404", async () => {
    const gina = stack.subs.gina as string;
    const answer = await send('POST', '/v1/admin/revocations', admin, JSON.stringify({ scope: 'user', sub: gina }));
    expectError(answer, 404, { code: 'NOT_FOUND', message: 'The user was not found.', details: { resource: 'user' } });
  });

  it('POST /v1/admin/revocations refuses an embed the tenant does not have with 404', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/revocations',
      admin,
      JSON.stringify({ scope: 'embed', embedId: 'no-such-embed' }),
    );
    expectError(answer, 404, {
      code: 'NOT_FOUND',
      message: 'The embed was not found.',
      details: { resource: 'embed' },
    });
  });

  it("POST /v1/admin/revocations revokes a user of the admin's own tenant (201)", async () => {
    const bob = stack.subs.bob as string;
    const answer = await send('POST', '/v1/admin/revocations', admin, JSON.stringify({ scope: 'user', sub: bob }));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ scope: 'user', sub: bob, revokedBefore: expect.any(Number) });
  });
});

describe('a dashboard error names the widget', () => {
  const dashboard = (widgets: unknown[]) =>
    JSON.stringify({ dashboardId: 'contract-board', title: 'Contract board', widgets });
  const widget = (id: string, query: unknown, type = 'table') => ({
    id,
    type,
    title: id,
    datasetId: 'sales',
    query,
  });

  it('POST /v1/admin/dashboards names the widget whose query uses an unknown column', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/dashboards',
      admin,
      dashboard([widget('fine', { columns: ['region'] }), widget('broken', { columns: ['nope'] })]),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'QUERY_INVALID',
      details: { widget: 'broken', column: 'nope' },
      requestId: answer.requestId,
    });
    expect(answer.body.message).toMatch(/^The query of widget "broken" is invalid: /);
  });

  it('POST /v1/admin/dashboards names the widget whose type cannot be drawn from its query', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/dashboards',
      admin,
      dashboard([widget('kpi', { columns: ['region'] }, 'number')]),
    );
    expectError(answer, 400, {
      code: 'QUERY_INVALID',
      message: 'The query of widget "kpi" is invalid: a number widget needs metrics and no group by.',
      details: { widget: 'kpi' },
    });
  });

  it('POST /v1/admin/dashboards points at a widget without a valid id by its position in the body', async () => {
    const answer = await send(
      'POST',
      '/v1/admin/dashboards',
      admin,
      dashboard([widget('first', { columns: ['region'] }), { ...widget('x', {}), id: 'bad id!' }]),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'widgets.1.id' } });
  });
});

describe('a dashboard cannot declare a parameter no viewer could set', () => {
  it.each(['__proto__', 'constructor', 'prototype', 'toString'])(
    'POST /v1/admin/dashboards refuses a parameter named %s',
    async (name) => {
      const body = `{"dashboardId":"reserved","title":"Reserved","parameters":[{"name":${JSON.stringify(name)},"type":"string"}],"widgets":[]}`;
      const answer = await send('POST', '/v1/admin/dashboards', admin, body);
      expectError(answer, 400, {
        code: 'VALIDATION_FAILED',
        message: `Invalid request: "parameters.${name}" is a reserved name.`,
        details: { field: `parameters.${name}`, reason: 'is a reserved name' },
      });
    },
  );
});
