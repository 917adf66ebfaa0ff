import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_PARAMETERS, MAX_WIDGETS } from '#admin/dashboards';
import { MAX_ALLOWED_ORIGINS } from '#admin/embeds';
import { RESOURCE_ID_PATTERN } from '#control/keys';
import {
  MAX_MAPPING_ENTRIES,
  MAX_RLS_RULES,
  MAX_VALUES_PER_ENTRY,
  validateRlsMapping,
  validateRlsRules,
} from '#datasets/rls';
import { COLUMN_NAME_PATTERN, MAX_COLUMNS, MAX_INDEXES, validateDatasetSchema } from '#datasets/schema';
import { MAX_FILTERS, MAX_GROUP_BY, MAX_IN_VALUES, MAX_LIMIT, MAX_METRICS } from '#datasets/widget';
import { ID_PATTERN, MAX_EMBED_TOKEN_BYTES, MAX_TOKEN_LIFETIME_SECONDS } from '#token/format';
import { effectiveLifetime } from '#token/sign';
import { ROUTES } from '../../lib/routes.ts';

/**
 * The published contract (docs/openapi.json, which openapi.test.ts keeps equal to the generated
 * document) promises exactly the bounds the code enforces: a client that stays within the
 * documented limits is never refused for a limit, and nothing documented as refused is accepted.
 */

type JsonSchema = Record<string, unknown>;
const document = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { requestBody?: unknown; parameters?: JsonSchema[] }>>;
};

/** The value at a JSON pointer (`/properties/x/items`) inside the request body schema of a route. */
function inBody(route: string, pointer: string): unknown {
  const [method, path] = route.split(' ') as [string, string];
  const body = document.paths[path]?.[method.toLowerCase()]?.requestBody as
    | { content: { 'application/json': { schema: JsonSchema } } }
    | undefined;
  if (!body) throw new Error(`${route} has no documented body`);
  let current: unknown = body.content['application/json'].schema;
  for (const segment of pointer.split('/').slice(1)) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) {
      throw new Error(`${route} has nothing at ${pointer} (stopped at ${segment})`);
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Every `pattern` in a schema, with the pointer where it is. */
function patternsIn(value: unknown, pointer = ''): Array<[string, string]> {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(
    ([key, child]): Array<[string, string]> =>
      key === 'pattern' && typeof child === 'string' ? [[pointer, child]] : patternsIn(child, `${pointer}/${key}`),
  );
}

/** The identity-claim pattern (not exported by the RLS module); a probe below checks it against `validateRlsRules`. */
const CLAIM_PATTERN = '^(sub|cognito:groups|custom:[A-Za-z0-9_]{1,64})$';
const query = '/properties/widgets/items/properties/query/properties';
const dashboardRoutes = ['POST /v1/admin/dashboards', 'PUT /v1/admin/dashboards/{dashboardId}'];
const embedRoutes = ['POST /v1/admin/embeds', 'PATCH /v1/admin/embeds/{embedId}'];

describe('OpenAPI bounds are the enforced ones', () => {
  it.each([
    [
      'the token lifetime cap',
      ['POST /v1/embed-tokens'],
      '/properties/lifetimeSeconds/maximum',
      MAX_TOKEN_LIFETIME_SECONDS,
    ],
    [
      'the embed token size',
      ['POST /v1/embed/sessions', 'POST /v1/embed/sessions/{sessionId}/renew'],
      '/properties/token/maxLength',
      MAX_EMBED_TOKEN_BYTES,
    ],
    [
      "an embed's token lifetime",
      embedRoutes,
      '/properties/maxTokenLifetimeSeconds/maximum',
      MAX_TOKEN_LIFETIME_SECONDS,
    ],
    ['the allowed origins of an embed', embedRoutes, '/properties/allowedOrigins/maxItems', MAX_ALLOWED_ORIGINS],
    ['the widgets of a dashboard', dashboardRoutes, '/properties/widgets/maxItems', MAX_WIDGETS],
    ['the parameters of a dashboard', dashboardRoutes, '/properties/parameters/maxItems', MAX_PARAMETERS],
    ['the filters of a widget', dashboardRoutes, `${query}/filters/maxItems`, MAX_FILTERS],
    ['the values of an in filter', dashboardRoutes, `${query}/filters/items/properties/values/maxItems`, MAX_IN_VALUES],
    ['the group by of a widget', dashboardRoutes, `${query}/groupBy/maxItems`, MAX_GROUP_BY],
    ['the metrics of a widget', dashboardRoutes, `${query}/metrics/maxItems`, MAX_METRICS],
    ['the row limit of a widget', dashboardRoutes, `${query}/limit/maximum`, MAX_LIMIT],
    [
      'the columns of a dataset',
      ['POST /v1/admin/datasets'],
      '/properties/schema/properties/columns/maxItems',
      MAX_COLUMNS,
    ],
    [
      'the indexes of a dataset',
      ['POST /v1/admin/datasets'],
      '/properties/schema/properties/indexes/maxItems',
      MAX_INDEXES,
    ],
    [
      'the RLS rules of a dataset',
      ['PUT /v1/admin/datasets/{datasetId}/rls-rules'],
      '/properties/rules/maxItems',
      MAX_RLS_RULES,
    ],
    [
      'the entries of an RLS mapping',
      ['PUT /v1/admin/rls-mappings/{mappingId}'],
      '/properties/entries/maxItems',
      MAX_MAPPING_ENTRIES,
    ],
    [
      'the values of an RLS mapping entry',
      ['PUT /v1/admin/rls-mappings/{mappingId}'],
      '/properties/entries/items/properties/values/anyOf/1/maxItems',
      MAX_VALUES_PER_ENTRY,
    ],
  ])('%s', (_name, routes, pointer, enforced) => {
    for (const route of routes) expect(inBody(route, pointer), route).toBe(enforced);
  });

  it("lets an embed allow no longer a token than the signer's hard cap", () => {
    // Assess: the largest documented embed maximum (the hard cap, one constant) signs; one more second is refused.
    expect(effectiveLifetime(MAX_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS)).toBe(MAX_TOKEN_LIFETIME_SECONDS);
    expect(() => effectiveLifetime(MAX_TOKEN_LIFETIME_SECONDS + 1, undefined)).toThrow(
      expect.objectContaining({ code: 'EMBED_TOKEN_LIFETIME_TOO_LONG' }),
    );
  });

  it('documents every id as the id pattern keys are built with, and ids a token carries with its pattern too', () => {
    // Prepare: ids that end up in a token's `eid` or `rsc.id`.
    const tokenBound = new Set([
      'POST /v1/admin/embeds /properties/embedId',
      'POST /v1/admin/embeds /properties/resource/oneOf/0/properties/id',
      'POST /v1/admin/embeds /properties/resource/oneOf/1/properties/id',
      'POST /v1/admin/dashboards /properties/dashboardId',
      ...dashboardRoutes.map((route) => `${route} /properties/widgets/items/properties/id`),
    ]);
    const seen = new Set<string>();

    // Act
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const route = `${method.toUpperCase()} ${path}`;
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in !== 'path') continue;
          expect((parameter.schema as JsonSchema).pattern, `${route} {${String(parameter.name)}}`).toBe(
            RESOURCE_ID_PATTERN.source,
          );
        }
        if (!operation.requestBody) continue;
        for (const [pointer, pattern] of patternsIn(inBody(route, ''))) {
          const field = pointer.replace(/\/allOf\/\d+$/, '');
          if (pointer.endsWith('/allOf/1')) {
            seen.add(`${route} ${field}`);
            expect(pattern, `${route} ${pointer}`).toBe(ID_PATTERN.source);
          } else if (tokenBound.has(`${route} ${field}`)) {
            expect(pattern, `${route} ${pointer}`).toBe(RESOURCE_ID_PATTERN.source);
          } else {
            expect(
              [RESOURCE_ID_PATTERN.source, COLUMN_NAME_PATTERN.source, CLAIM_PATTERN],
              `${route} ${pointer}`,
            ).toContain(pattern);
          }
        }
      }
    }

    // Assess: every token-bound id carries both patterns.
    expect([...seen].sort()).toEqual([...tokenBound].sort());
  });

  it('documents the identity claims an RLS rule accepts', () => {
    // Prepare
    const pattern = new RegExp(
      inBody(
        'PUT /v1/admin/datasets/{datasetId}/rls-rules',
        '/properties/rules/items/properties/source/oneOf/0/properties/claim/pattern',
      ) as string,
    );
    const schema = validateDatasetSchema({ columns: [{ name: 'region', type: 'string' }], partitionColumn: 'region' });
    const accepted = (claim: string) => {
      try {
        validateRlsRules([{ column: 'region', source: { kind: 'identity', claim } }], schema);
        return true;
      } catch {
        return false;
      }
    };

    // Act, Assess
    for (const claim of [
      'sub',
      'cognito:groups',
      'custom:region',
      `custom:${'a'.repeat(64)}`,
      `custom:${'a'.repeat(65)}`,
      'custom:',
      'email',
      'custom:re-gion',
      ' sub',
    ]) {
      expect(pattern.test(claim), claim).toBe(accepted(claim));
    }
  });

  it('documents the values of an RLS mapping entry as the mapping check accepts them', () => {
    // Prepare
    const values = inBody(
      'PUT /v1/admin/rls-mappings/{mappingId}',
      '/properties/entries/items/properties/values/anyOf/1/items',
    ) as {
      minLength: number;
      maxLength: number;
    };
    const accepted = (value: string) => {
      try {
        validateRlsMapping({ id: 'm1', entries: [{ principalType: 'user', principal: 'alice', values: [value] }] });
        return true;
      } catch {
        return false;
      }
    };

    // Act, Assess
    expect(accepted('x'.repeat(values.minLength))).toBe(true);
    expect(accepted('x'.repeat(values.minLength - 1))).toBe(false);
    expect(accepted('x'.repeat(values.maxLength))).toBe(true);
    expect(accepted('x'.repeat(values.maxLength + 1))).toBe(false);
  });

  it('covers every route of the route table', () => {
    expect(Object.keys(document.paths).sort()).toEqual([...new Set(ROUTES.map((route) => route.path))].sort());
  });
});
