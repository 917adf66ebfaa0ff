import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { DependencyUnavailable, EmbedTokenIdentityMismatch } from '#errors';
import { createApiHandler } from '../../functions/http/api-handler.ts';
import { createLogger } from '../../functions/http/observability.ts';
import { parseBody } from '../../functions/http/request.ts';
import { lambdaContext, restEvent } from '../fixtures/api-gateway.ts';

const alice = { sub: '7d1f0c7e-0000-4000-8000-000000000001', username: 'alice', tenantId: 'acme', region: 'EU' };
const logger = createLogger('test', { LOG_LEVEL: 'SILENT' });
const bodySchema = z.strictObject({ embedId: z.string().min(1).max(64), lifetimeSeconds: z.number().int().optional() });

function handlerWith(
  route: Parameters<typeof createApiHandler>[0]['routes'][string],
  onRefusal = vi.fn(async () => {}),
) {
  return {
    onRefusal,
    handler: createApiHandler({
      logger,
      allowedOrigins: ['https://app.example.com'],
      routes: { 'POST /v1/embed-tokens': route },
      onRefusal,
    }),
  };
}

describe('createApiHandler', () => {
  it('passes the verified caller to the route and returns JSON with security headers', async () => {
    // Prepare
    const { handler } = handlerWith(async (request) => ({ status: 201, body: { who: request.caller } }));
    const event = restEvent({
      method: 'POST',
      resource: '/v1/embed-tokens',
      identity: { ...alice, groups: ['embed-signers', 'tenant-admins'] },
      body: {},
      headers: { origin: 'https://app.example.com' },
    });
    // Act
    const result = await handler(event, lambdaContext());
    // Assess
    expect(result.statusCode).toBe(201);
    expect(JSON.parse(result.body).who).toEqual({
      sub: alice.sub,
      tenantId: 'acme',
      username: 'alice',
      groups: ['embed-signers', 'tenant-admins'],
      attributes: { region: 'EU' },
    });
    expect(result.headers).toMatchObject({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Access-Control-Allow-Origin': 'https://app.example.com',
    });
  });

  it('never reflects an origin that is not configured', async () => {
    const { handler } = handlerWith(async () => ({ status: 200, body: {} }));
    const event = restEvent({
      method: 'POST',
      resource: '/v1/embed-tokens',
      identity: alice,
      headers: { origin: 'https://evil.example' },
    });
    const result = await handler(event);
    expect(result.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('maps a known error to its code and status, and reports the refusal', async () => {
    const { handler, onRefusal } = handlerWith(async () => {
      throw new EmbedTokenIdentityMismatch();
    });
    const result = await handler(restEvent({ method: 'POST', resource: '/v1/embed-tokens', identity: alice }));
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({
      code: 'EMBED_TOKEN_IDENTITY_MISMATCH',
      message: 'This embed was not issued to you.',
    });
    expect(onRefusal).toHaveBeenCalledOnce();
  });

  it('hides unexpected errors behind a 500 without internals or stack', async () => {
    const { handler } = handlerWith(async () => {
      throw new Error('AccessDeniedException: arn:aws:dynamodb:us-east-1:123:table/secret-table');
    });
    const result = await handler(restEvent({ method: 'POST', resource: '/v1/embed-tokens', identity: alice }));
    expect(result.statusCode).toBe(500);
    const body = JSON.parse(result.body);
    expect(body).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'An internal error occurred.',
      requestId: expect.any(String),
    });
    expect(result.body).not.toMatch(/arn:aws|at .*\.ts/);
  });

  it('refuses a request without verified claims with 401', async () => {
    const { handler } = handlerWith(async () => ({ status: 200 }));
    const result = await handler(restEvent({ method: 'POST', resource: '/v1/embed-tokens' }));
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body).code).toBe('UNAUTHENTICATED');
  });

  it('answers an unknown route with 404', async () => {
    const { handler } = handlerWith(async () => ({ status: 200 }));
    const result = await handler(restEvent({ method: 'DELETE', resource: '/v1/nothing', identity: alice }));
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body).code).toBe('NOT_FOUND');
  });
});

describe('parseBody', () => {
  it.each([
    ['not json', '{', 'body', 'must be valid JSON'],
    ['missing field', '{}', 'embedId', 'is required'],
    ['wrong type', '{"embedId": 5}', 'embedId', 'must be string'],
    ['unknown field', '{"embedId":"e","admin":true}', 'admin', 'is not a known field'],
    ['too long', JSON.stringify({ embedId: 'x'.repeat(65) }), 'embedId', 'is too big (maximum 64)'],
  ])('refuses %s naming the field', (_name, raw, field, reason) => {
    expect(() => parseBody(raw, false, bodySchema)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field, reason } }),
    );
  });

  it('refuses an oversized body before parsing it', () => {
    expect(() => parseBody(`{"embedId":"${'x'.repeat(70_000)}"}`, false, bodySchema)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: { field: 'body', reason: 'must be at most 65536 bytes' },
      }),
    );
  });

  it('accepts a valid base64 body', () => {
    const raw = Buffer.from(JSON.stringify({ embedId: 'sales' })).toString('base64');
    expect(parseBody(raw, true, bodySchema)).toEqual({ embedId: 'sales' });
  });

  it('a 503 logs the failure underneath, tells the caller when to retry, and shows the caller nothing else', async () => {
    // Prepare: a throttled SDK call, as the table gateway wraps it.
    const sdkError = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const logged: Record<string, unknown>[] = [];
    const capture = {
      info: () => {},
      warn: () => {},
      debug: () => {},
      error: (_m: string, a: Record<string, unknown>) => logged.push(a),
    };
    const handler = createApiHandler({
      logger: capture,
      allowedOrigins: [],
      routes: {
        'POST /v1/embed-tokens': async () => {
          throw new DependencyUnavailable({ cause: sdkError });
        },
      },
    });
    // Act
    const result = await handler(
      restEvent({ method: 'POST', resource: '/v1/embed-tokens', identity: alice, body: {} }),
      lambdaContext(),
    );
    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'Retry-After': '2' });
    expect(JSON.parse(result.body)).toEqual({
      code: 'DEPENDENCY_UNAVAILABLE',
      message: 'A dependency is temporarily unavailable; try again.',
      requestId: expect.any(String),
    });
    expect(result.body).not.toContain('throughput');
    expect(logged).toEqual([expect.objectContaining({ code: 'DEPENDENCY_UNAVAILABLE', cause: sdkError })]);
  });
});
