import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeKey } from '../../lib/routes.ts';
import { type Harness, startHarness, users } from './harness.ts';

let api: Harness;

beforeAll(async () => {
  api = await startHarness();
});
afterAll(async () => {
  await api?.close();
});

describe('route table', () => {
  it.each(ROUTES.map((route) => [routeKey(route), route] as const))(
    '%s is served by the function the route table names',
    async (_key, route) => {
      const pathParameters = Object.fromEntries(
        [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] as string, 'x']),
      );
      const response = await api.call(route.function, {
        method: route.method,
        resource: route.path,
        pathParameters,
        identity: users.admin,
        ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: {} } : {}),
      });
      // Any answer but "no such route": the handler dispatches this route key.
      expect(response.body.details).not.toEqual({ resource: 'route' });
      expect(response.status).toBeLessThan(500);
    },
  );
});
