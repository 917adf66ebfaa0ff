import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS, buildOpenApiDocument } from '../../functions/api/openapi.ts';
import { ROUTES, routeKey } from '../../lib/routes.ts';

describe('OpenAPI document', () => {
  it('is exactly what the route table and the request schemas generate (run `npm run openapi` after a change)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(buildOpenApiDocument());
  });

  it('describes every route and nothing else, each secured by Cognito', () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual(ROUTES.map(routeKey).sort());
    const paths = buildOpenApiDocument().paths as Record<
      string,
      Record<string, { security: unknown; requestBody?: unknown }>
    >;
    for (const route of ROUTES) {
      const operation = paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, routeKey(route)).toBeDefined();
      expect(operation?.security).toEqual([{ cognito: [] }]);
      expect(Boolean(operation?.requestBody), routeKey(route)).toBe(
        ['POST', 'PUT', 'PATCH'].includes(route.method) && routeKey(route) !== 'POST /v1/admin/signing-keys/rotate',
      );
    }
  });

  it('documents the request constraints the handlers enforce', () => {
    const paths = buildOpenApiDocument().paths as Record<
      string,
      Record<string, { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } }>
    >;
    const schema = paths['/v1/embed-tokens']?.post?.requestBody.content['application/json']?.schema;
    expect(schema).toMatchObject({
      type: 'object',
      required: ['embedId'],
      additionalProperties: false,
      properties: {
        embedId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
        lifetimeSeconds: { type: 'integer', minimum: 1 },
      },
    });
  });
});
