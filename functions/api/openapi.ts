import * as z from 'zod/mini';
import { ROUTES, type Route, routeKey } from '../../lib/routes.ts';
import * as schemas from './schemas.ts';

/**
 * The OpenAPI 3.1 document of the whole API, generated from the one route table and the same zod
 * schemas the handlers validate with. `docs/openapi.json` is this document; a test fails when
 * the two differ, so the published contract cannot drift from the code.
 */

interface Operation {
  readonly body?: z.ZodMiniType;
  readonly path?: z.ZodMiniType;
  readonly query?: z.ZodMiniType;
  /** Status of the success response. */
  readonly success: number;
  readonly successDescription: string;
}

/** Request schemas and success status of every route, keyed like the handlers' route tables. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'POST /v1/embed-tokens': {
    body: schemas.issueEmbedTokenBody,
    success: 201,
    successDescription: '`{ token, expiresAt, embedUrl }`; the token is only in the URL fragment',
  },
  'POST /v1/embed/sessions': {
    body: schemas.openEmbedSessionBody,
    success: 201,
    successDescription: '`{ sessionId, expiresAt, embed, dashboard, parameters }`',
  },
  'POST /v1/embed/sessions/{sessionId}/renew': {
    path: schemas.sessionIdPath,
    body: schemas.renewEmbedSessionBody,
    success: 200,
    successDescription: '`{ sessionId, expiresAt }`',
  },
  'POST /v1/embed/query': {
    body: schemas.queryEmbedBody,
    success: 200,
    successDescription: '`{ widgets: { <id>: { columns, rows, truncated } }, parameters }`',
  },
  'GET /v1/admin/datasets': { success: 200, successDescription: '`{ datasets }`' },
  'POST /v1/admin/datasets': { body: schemas.createDatasetBody, success: 201, successDescription: 'The dataset' },
  'GET /v1/admin/datasets/{datasetId}': {
    path: schemas.datasetIdPath,
    success: 200,
    successDescription: 'The dataset and its schema',
  },
  'POST /v1/admin/datasets/{datasetId}/imports': {
    path: schemas.datasetIdPath,
    body: schemas.importRowsBody,
    success: 200,
    successDescription: 'The import summary',
  },
  'GET /v1/admin/datasets/{datasetId}/rls-rules': {
    path: schemas.datasetIdPath,
    success: 200,
    successDescription: '`{ datasetId, rules }`',
  },
  'PUT /v1/admin/datasets/{datasetId}/rls-rules': {
    path: schemas.datasetIdPath,
    body: schemas.rlsRulesBody,
    success: 200,
    successDescription: '`{ datasetId, rules }`',
  },
  'GET /v1/admin/datasets/{datasetId}/rollups': {
    path: schemas.datasetIdPath,
    success: 200,
    successDescription: '`{ datasetId, rollups: [{ id, dimensions, time?, measures, ready, items? }] }`',
  },
  'PUT /v1/admin/datasets/{datasetId}/rollups/{rollupId}': {
    path: schemas.rollupPath,
    body: schemas.rollupBody,
    success: 200,
    successDescription:
      'The rollup `{ id, dimensions, time?, measures, ready, items? }`, built for the active version; readers use rows until it is ready',
  },
  'DELETE /v1/admin/datasets/{datasetId}/rollups/{rollupId}': {
    path: schemas.rollupPath,
    success: 204,
    successDescription: 'Dropped; readers stop using it at once and its items are deleted',
  },
  'GET /v1/admin/rls-mappings/{mappingId}': {
    path: schemas.mappingIdPath,
    success: 200,
    successDescription: 'The mapping',
  },
  'PUT /v1/admin/rls-mappings/{mappingId}': {
    path: schemas.mappingIdPath,
    body: schemas.rlsMappingBody,
    success: 200,
    successDescription: 'The mapping',
  },
  'GET /v1/admin/dashboards': { success: 200, successDescription: '`{ dashboards }`' },
  'POST /v1/admin/dashboards': {
    body: schemas.createDashboardBody,
    success: 201,
    successDescription:
      'The dashboard, with `sources: { <widgetId>: { source: "rollup:<id>" | "raw", reason? } }` (for a viewer restricted on every RLS column)',
  },
  'GET /v1/admin/dashboards/{dashboardId}': {
    path: schemas.dashboardIdPath,
    success: 200,
    successDescription: 'The dashboard',
  },
  'PUT /v1/admin/dashboards/{dashboardId}': {
    path: schemas.dashboardIdPath,
    body: schemas.dashboardBody,
    success: 200,
    successDescription:
      'The dashboard, with `sources: { <widgetId>: { source: "rollup:<id>" | "raw", reason? } }` (for a viewer restricted on every RLS column)',
  },
  'GET /v1/admin/embeds': { success: 200, successDescription: '`{ embeds }`' },
  'POST /v1/admin/embeds': { body: schemas.createEmbedBody, success: 201, successDescription: 'The embed' },
  'GET /v1/admin/embeds/{embedId}': { path: schemas.embedIdPath, success: 200, successDescription: 'The embed' },
  'PATCH /v1/admin/embeds/{embedId}': {
    path: schemas.embedIdPath,
    body: schemas.updateEmbedBody,
    success: 200,
    successDescription: 'The embed',
  },
  'POST /v1/admin/signing-keys/rotate': { success: 202, successDescription: '`{ rotationStarted, currentKid }`' },
  'GET /v1/admin/revocations': { success: 200, successDescription: '`{ revocations }`' },
  'POST /v1/admin/revocations': { body: schemas.revocationBody, success: 201, successDescription: 'The revocation' },
  'GET /v1/admin/audit': {
    query: schemas.auditQuery,
    success: 200,
    successDescription: '`{ events, cursor? }`, newest first',
  },
};

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Invalid request (`VALIDATION_FAILED` naming `details.field`, `PARAM_*`, `QUERY_INVALID`, …)',
  '401': 'Not authenticated, or the embed token/session is not acceptable (`EMBED_TOKEN_*`, `EMBED_SESSION_INVALID`)',
  '403': 'Not allowed (`EMBED_TOKEN_IDENTITY_MISMATCH`, `EMBED_SIGNER_REQUIRED`, `TENANT_ADMIN_REQUIRED`, …)',
  '404': 'Not found in your tenant',
  '409': 'Conflict',
  '500': 'Internal error (no details)',
};

function jsonSchema(schema: z.ZodMiniType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    // Documented by the schema it stands for; anything else without a JSON Schema is a mistake.
    unrepresentable: ({ zodSchema }) => {
      const documented = schemas.DOCUMENTED_AS.get(zodSchema);
      return documented ? jsonSchema(documented) : 'throw';
    },
  }) as Record<string, unknown>;
  return rest;
}

function operation(route: Route): Record<string, unknown> {
  const spec = OPERATIONS[routeKey(route)];
  if (!spec) throw new Error(`No OpenAPI operation for ${routeKey(route)}`);
  const parameters: Record<string, unknown>[] = [];
  for (const [location, schema] of [
    ['path', spec.path],
    ['query', spec.query],
  ] as const) {
    if (!schema) continue;
    const properties = (jsonSchema(schema).properties ?? {}) as Record<string, unknown>;
    const required = new Set((jsonSchema(schema).required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      parameters.push({ name, in: location, required: location === 'path' || required.has(name), schema: property });
    }
  }
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: route.summary,
    ...(route.group
      ? { description: `Requires the \`${route.group}\` group; always scoped to the caller's tenant.` }
      : {}),
    security: [{ cognito: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body) } } } }
      : {}),
    responses: {
      [String(spec.success)]: { description: spec.successDescription },
      ...Object.fromEntries(
        Object.entries(ERROR_RESPONSES).map(([status, description]) => [
          status,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  };
}

/** Builds the document. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Secure Embed API',
      version: '1.0.0',
      description:
        'Identity-bound embed tokens, one-time redemption, RLS-filtered dashboard queries and the tenant admin API. Every route requires a Cognito ID token in the Authorization header.',
    },
    components: {
      securitySchemes: {
        cognito: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Cognito ID token' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message', 'requestId'],
          properties: {
            code: { type: 'string', description: 'Stable machine-readable code' },
            message: { type: 'string' },
            details: { type: 'object' },
            requestId: { type: 'string' },
          },
        },
      },
    },
    paths,
  };
}
