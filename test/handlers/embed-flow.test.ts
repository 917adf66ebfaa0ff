import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, tokenClaims, users } from './harness.ts';

let api: Harness;

beforeAll(async () => {
  api = await startHarness();
});
afterAll(async () => {
  await api?.close();
});

async function signFor(identity: (typeof users)[keyof typeof users], body: Record<string, unknown> = {}) {
  return api.call('embed-tokens', {
    method: 'POST',
    resource: '/v1/embed-tokens',
    identity,
    body: { embedId: 'sales-embed', ...body },
  });
}

async function tokenFor(
  identity: (typeof users)[keyof typeof users],
  body: Record<string, unknown> = {},
): Promise<string> {
  const response = await signFor(identity, body);
  expect(response.status).toBe(201);
  return response.body.token as string;
}

async function redeem(identity: (typeof users)[keyof typeof users], token: unknown) {
  return api.call('embed-sessions', { method: 'POST', resource: '/v1/embed/sessions', identity, body: { token } });
}

async function query(
  identity: (typeof users)[keyof typeof users],
  sessionId: unknown,
  params?: Record<string, unknown>,
) {
  return api.call('embed-query', {
    method: 'POST',
    resource: '/v1/embed/query',
    identity,
    body: { sessionId, embedId: 'sales-embed', ...(params ? { params } : {}) },
  });
}

describe('POST /v1/embed-tokens', () => {
  it('signs a token for the caller, bound to their sub and tenant, with the token only in the URL fragment', async () => {
    // Act
    const response = await signFor(users.alice);
    // Assess
    expect(response.status).toBe(201);
    const { token, embedUrl, expiresAt } = response.body as { token: string; embedUrl: string; expiresAt: string };
    expect(embedUrl).toBe(`https://viewer.example.com/embed/acme/sales-embed#token=${token}`);
    expect(new URL(embedUrl).search).toBe('');
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(290_000);
    expect(tokenClaims(token)).toMatchObject({
      sub: users.alice.sub,
      tid: 'acme',
      eid: 'sales-embed',
      rsc: { type: 'dashboard', id: 'overview' },
    });
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  });

  it('refuses a plain user signing for someone else', async () => {
    const response = await signFor(users.alice, { viewer: 'bob' });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('EMBED_SIGNER_REQUIRED');
  });

  it('refuses a plain user setting a locked parameter', async () => {
    const response = await signFor(users.alice, { params: { product: 'gadget' } });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('EMBED_SIGNER_REQUIRED');
  });

  it('lets a signer sign for a user of its own tenant, with locked parameters', async () => {
    const response = await signFor(users.signer, { viewer: 'bob', params: { product: 'gadget' } });
    expect(response.status).toBe(201);
    expect(tokenClaims(response.body.token as string)).toMatchObject({
      sub: users.bob.sub,
      tid: 'acme',
      prm: { product: 'gadget' },
    });
  });

  it('refuses a signer of tenant A signing for a user of tenant B, and for an unknown user, alike', async () => {
    const other = await signFor(users.signer, { viewer: 'gina' });
    const unknown = await signFor(users.signer, { viewer: 'nobody' });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('VIEWER_NOT_IN_TENANT');
    expect(unknown.body).toEqual({ ...other.body, requestId: unknown.body.requestId });
  });

  it('refuses a lifetime above the embed maximum instead of clipping it', async () => {
    const response = await signFor(users.alice, { lifetimeSeconds: 301 });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('EMBED_TOKEN_LIFETIME_TOO_LONG');
  });

  it('answers 404 for an embed of another tenant, exactly as for a missing one', async () => {
    const response = await signFor(users.gina, { embedId: 'no-such-embed' });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });

  it.each([
    [{}, 'embedId', 'is required'],
    [{ embedId: 7 }, 'embedId', 'must be string'],
    [{ embedId: '../x' }, 'embedId', 'must be an id'],
    [{ embedId: 'sales-embed', extra: 1 }, 'extra', 'is not a known field'],
    [{ embedId: 'sales-embed', lifetimeSeconds: 'long' }, 'lifetimeSeconds', 'must be number'],
    [{ embedId: 'sales-embed', params: { period: { from: 1 } } }, 'params.period', 'is invalid'],
  ])('answers 400 naming the field for %j', async (body, field, reason) => {
    const response = await api.call('embed-tokens', {
      method: 'POST',
      resource: '/v1/embed-tokens',
      identity: users.alice,
      body,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field, reason } });
  });

  it('answers 400 for a body that is not JSON, without internals', async () => {
    const response = await api.call('embed-tokens', {
      method: 'POST',
      resource: '/v1/embed-tokens',
      identity: users.alice,
      rawBody: '{"embedId":',
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'body' } });
    expect(JSON.stringify(response.body)).not.toMatch(/SyntaxError|at JSON|\.ts:/);
  });
});

describe('POST /v1/embed/sessions and /v1/embed/query', () => {
  it("redeems once, shows the editable parameters, and returns only the viewer's own rows for all widgets in one call", async () => {
    // Prepare
    const token = await tokenFor(users.alice);
    // Act
    const opened = await redeem(users.alice, token);
    const data = await query(users.alice, opened.body.sessionId);
    // Assess
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({
      embed: { id: 'sales-embed', allowedOrigins: ['https://app.example.com'] },
      dashboard: {
        id: 'overview',
        title: 'Sales overview',
        widgets: [
          { id: 'revenue', type: 'number' },
          { id: 'rows', type: 'table' },
        ],
      },
      parameters: [
        { name: 'period', type: 'dateRange', label: 'Period', value: { from: '2025-01-01', to: '2025-12-31' } },
      ],
    });
    expect(JSON.stringify(opened.body)).not.toContain('filters');
    expect(data.status).toBe(200);
    const widgets = data.body.widgets as Record<string, { rows: Record<string, unknown>[] }>;
    expect(Object.keys(widgets).sort()).toEqual(['revenue', 'rows']);
    expect(widgets.revenue?.rows).toEqual([{ sum_revenue: 220 }]);
    expect(widgets.rows?.rows.map((row) => row.region)).toEqual(['EU', 'EU', 'EU']);
  });

  it("refuses the seed attack: alice's token presented by bob is 403 and does not burn the token", async () => {
    const token = await tokenFor(users.alice);
    const attack = await redeem(users.bob, token);
    expect(attack.status).toBe(403);
    expect(attack.body.code).toBe('EMBED_TOKEN_IDENTITY_MISMATCH');
    expect((await redeem(users.alice, token)).status).toBe(201);
  });

  it('refuses a token of another tenant with the identity-mismatch code', async () => {
    const token = await tokenFor(users.gina);
    const response = await redeem(users.alice, token);
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('EMBED_TOKEN_IDENTITY_MISMATCH');
  });

  it('refuses a second redemption with its own code', async () => {
    const token = await tokenFor(users.alice);
    expect((await redeem(users.alice, token)).status).toBe(201);
    const again = await redeem(users.alice, token);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('EMBED_TOKEN_ALREADY_REDEEMED');
  });

  it('refuses garbage and a Cognito token presented as an embed token with 401', async () => {
    const cognitoLike = `${Buffer.from('{"alg":"RS256","kid":"x"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2ln`;
    expect((await redeem(users.alice, 'not-a-token')).body.code).toBe('EMBED_TOKEN_MALFORMED');
    const cognito = await redeem(users.alice, cognitoLike);
    expect(cognito.status).toBe(401);
    expect(cognito.body.code).toMatch(/^EMBED_TOKEN_/);
  });

  it('applies the locked parameter from the token and refuses a viewer overriding it', async () => {
    const token = (await signFor(users.signer, { viewer: 'bob', params: { product: 'gadget' } })).body.token;
    const opened = await redeem(users.bob, token);
    const data = await query(users.bob, opened.body.sessionId);
    const rows = (data.body.widgets as Record<string, { rows: Record<string, unknown>[] }>).rows?.rows;
    expect(rows).toEqual([{ date: '2025-03-09T00:00:00.000Z', region: 'US', product: 'gadget', revenue: 500 }]);
    const override = await query(users.bob, opened.body.sessionId, { product: 'widget' });
    expect(override.status).toBe(400);
    expect(override.body).toMatchObject({ code: 'PARAM_LOCKED', details: { parameter: 'product' } });
    const disabled = await query(users.bob, opened.body.sessionId, { channel: 'web' });
    expect(disabled.body).toMatchObject({ code: 'PARAM_DISABLED', details: { parameter: 'channel' } });
    const unknown = await query(users.bob, opened.body.sessionId, { nope: 1 });
    expect(unknown.body).toMatchObject({ code: 'PARAM_UNKNOWN', details: { parameter: 'nope' } });
  });

  it('filters by the editable date range and keeps it across a renewal', async () => {
    // Prepare
    const opened = await redeem(users.alice, await tokenFor(users.alice));
    const sessionId = opened.body.sessionId as string;
    const january = { period: { from: '2025-01-01', to: '2025-01-31' } };
    // Act
    const filtered = await query(users.alice, sessionId, january);
    const renewed = await api.call('embed-sessions', {
      method: 'POST',
      resource: '/v1/embed/sessions/{sessionId}/renew',
      pathParameters: { sessionId },
      identity: users.alice,
      body: { token: await tokenFor(users.alice) },
    });
    const afterRenewal = await query(users.alice, sessionId);
    // Assess
    expect((filtered.body.widgets as Record<string, { rows: unknown[] }>).revenue?.rows).toEqual([
      { sum_revenue: 150 },
    ]);
    expect(renewed.status).toBe(200);
    expect(renewed.body.sessionId).toBe(sessionId);
    expect(afterRenewal.body.parameters).toEqual(january);
    expect((afterRenewal.body.widgets as Record<string, { rows: unknown[] }>).revenue?.rows).toEqual([
      { sum_revenue: 150 },
    ]);
  });

  it("refuses renewing a session with a token of another viewer, and querying someone else's session", async () => {
    const opened = await redeem(users.alice, await tokenFor(users.alice));
    const sessionId = opened.body.sessionId as string;
    const renew = await api.call('embed-sessions', {
      method: 'POST',
      resource: '/v1/embed/sessions/{sessionId}/renew',
      pathParameters: { sessionId },
      identity: users.bob,
      body: { token: await tokenFor(users.bob) },
    });
    expect(renew.status).toBe(401);
    expect(renew.body.code).toBe('EMBED_SESSION_INVALID');
    const stolen = await query(users.bob, sessionId);
    expect(stolen.status).toBe(401);
    expect(stolen.body.code).toBe('EMBED_SESSION_INVALID');
  });

  it('refuses a revoked token, user and embed, and cuts a live session off at once', async () => {
    // Token revocation.
    const token = await tokenFor(users.alice);
    const revokeToken = await api.call('admin', {
      method: 'POST',
      resource: '/v1/admin/revocations',
      identity: users.admin,
      body: { scope: 'token', jti: tokenClaims(token).jti },
    });
    expect(revokeToken.status).toBe(201);
    expect((await redeem(users.alice, token)).body.code).toBe('EMBED_TOKEN_REVOKED');

    // User revocation also stops the live session's queries.
    const live = await redeem(users.bob, await tokenFor(users.bob));
    const before = await tokenFor(users.bob);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await api.call('admin', {
      method: 'POST',
      resource: '/v1/admin/revocations',
      identity: users.admin,
      body: { scope: 'user', sub: users.bob.sub },
    });
    expect((await redeem(users.bob, before)).body.code).toBe('EMBED_TOKEN_REVOKED');
    const cut = await query(users.bob, live.body.sessionId);
    expect(cut.status).toBe(401);
    expect(cut.body.code).toBe('EMBED_TOKEN_REVOKED');

    const listed = await api.call('admin', { method: 'GET', resource: '/v1/admin/revocations', identity: users.admin });
    expect((listed.body.revocations as { scope: string }[]).map((r) => r.scope).sort()).toEqual(['token', 'user']);
  });

  it('never revives a revoked session by renewing it; a user revocation ends tokens issued before it only', async () => {
    // Prepare: a live session of the signer-made viewer "bob" in globex is not needed; use gina.
    const live = await redeem(users.gina, await tokenFor(users.gina));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await api.call('admin', {
      method: 'POST',
      resource: '/v1/admin/revocations',
      identity: users.globexAdmin,
      body: { scope: 'user', sub: users.gina.sub },
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Act
    const fresh = await tokenFor(users.gina);
    const renewed = await api.call('embed-sessions', {
      method: 'POST',
      resource: '/v1/embed/sessions/{sessionId}/renew',
      pathParameters: { sessionId: live.body.sessionId as string },
      identity: users.gina,
      body: { token: fresh },
    });
    const reopened = await redeem(users.gina, fresh);
    // Assess
    expect(renewed.status).toBe(401);
    expect(renewed.body.code).toBe('EMBED_TOKEN_REVOKED');
    expect(reopened.status).toBe(201);
  });

  it('answers repeated queries of one session from its real state, even after a renewal changed the locked values', async () => {
    // Prepare: bob's session locked to "gadget", queried once so this container remembers it.
    const first = (await signFor(users.signer, { viewer: 'bob', params: { product: 'gadget' } })).body.token;
    const opened = await redeem(users.bob, first);
    const sessionId = opened.body.sessionId as string;
    const before = await query(users.bob, sessionId);
    // Act: the signer renews it with "widget" locked instead, then bob queries again.
    const second = (await signFor(users.signer, { viewer: 'bob', params: { product: 'widget' } })).body.token;
    const renewed = await api.call('embed-sessions', {
      method: 'POST',
      resource: '/v1/embed/sessions/{sessionId}/renew',
      pathParameters: { sessionId },
      identity: users.bob,
      body: { token: second },
    });
    const after = await query(users.bob, sessionId);
    const stolen = await query(users.alice, sessionId);
    // Assess
    const products = (response: typeof before) =>
      (response.body.widgets as Record<string, { rows: { product: string }[] }>).rows?.rows.map((row) => row.product);
    expect(products(before)).toEqual(['gadget']);
    expect(renewed.status).toBe(200);
    expect(products(after)).toEqual(['widget']);
    expect(stolen.status).toBe(401);
    expect(stolen.body.code).toBe('EMBED_SESSION_INVALID');
  });

  it('tells a caller without a live session nothing about the embed', async () => {
    const unknownEmbed = await api.call('embed-query', {
      method: 'POST',
      resource: '/v1/embed/query',
      identity: users.alice,
      body: { sessionId: 'no-such-session', embedId: 'no-such-embed' },
    });
    expect(unknownEmbed.status).toBe(401);
    expect(unknownEmbed.body.code).toBe('EMBED_SESSION_INVALID');
  });

  it('refuses an embed revoked or disabled by the admin of its tenant', async () => {
    const token = await tokenFor(users.gina);
    await api.call('admin', {
      method: 'POST',
      resource: '/v1/admin/revocations',
      identity: users.globexAdmin,
      body: { scope: 'embed', embedId: 'sales-embed' },
    });
    expect((await redeem(users.gina, token)).body.code).toBe('EMBED_TOKEN_REVOKED');

    const disable = await api.call('admin', {
      method: 'PATCH',
      resource: '/v1/admin/embeds/{embedId}',
      pathParameters: { embedId: 'sales-embed' },
      identity: users.globexAdmin,
      body: { enabled: false },
    });
    expect(disable.status).toBe(200);
    const refused = await signFor(users.gina);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('EMBED_DISABLED');
  });

  it('audits signatures, redemptions and refusals with reason codes, never the token', async () => {
    const token = await tokenFor(users.alice);
    await redeem(users.bob, token);
    const audit = await api.call('admin', {
      method: 'GET',
      resource: '/v1/admin/audit',
      identity: users.admin,
      query: { limit: '200' },
    });
    expect(audit.status).toBe(200);
    const events = audit.body.events as { action: string; outcome: string; reason: string; sub: string }[];
    expect(events).toContainEqual(
      expect.objectContaining({
        action: 'embed-session.open',
        outcome: 'denied',
        reason: 'EMBED_TOKEN_IDENTITY_MISMATCH',
        sub: users.bob.sub,
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ action: 'embed-token.issue', outcome: 'allowed', sub: users.alice.sub }),
    );
    expect(JSON.stringify(audit.body)).not.toContain(token.split('.')[2]);
  });

  it.each([
    ['embed-sessions', '/v1/embed/sessions', {}, 'token', 'is required'],
    ['embed-sessions', '/v1/embed/sessions', { token: 5 }, 'token', 'must be string'],
    ['embed-query', '/v1/embed/query', { embedId: 'sales-embed' }, 'sessionId', 'is required'],
    [
      'embed-query',
      '/v1/embed/query',
      { sessionId: 's', embedId: 'sales-embed', params: [] },
      'params',
      'must be record',
    ],
  ] as const)('%s answers 400 naming the field', async (fn, resource, body, field, reason) => {
    const response = await api.call(fn, { method: 'POST', resource, identity: users.alice, body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field, reason } });
  });
});
