import { z } from 'zod';

/**
 * Request schemas of the whole API: the handlers validate every body with them, and the OpenAPI
 * document is generated from them, so the two cannot disagree. Deep domain rules (a widget's
 * column exists in its dataset, an RLS rule's column exists…) are checked again by the domain
 * validators, which also answer 400 naming the field.
 */

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id');
const columnName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a column name');
const dateRange = z.strictObject({ from: z.string().max(40), to: z.string().max(40) });
const paramValue = z.union([
  z.string().max(1024),
  z.number(),
  z.boolean(),
  dateRange,
  z.array(z.string().max(1024)).max(100),
]);
const paramValues = z.record(z.string().max(64), paramValue);

// ---------------------------------------------------------------------------------------------
// Embed path
// ---------------------------------------------------------------------------------------------

export const issueEmbedTokenBody = z.strictObject({
  embedId: id,
  params: paramValues.optional(),
  /** Cognito username of the viewer (signers only; omit for yourself). */
  viewer: z.string().min(1).max(128).optional(),
  lifetimeSeconds: z.number().int().min(1).max(3600).optional(),
});

export const openEmbedSessionBody = z.strictObject({
  token: z.string().min(1).max(16_384),
});

export const renewEmbedSessionBody = z.strictObject({
  token: z.string().min(1).max(16_384),
});

export const sessionIdPath = z.strictObject({ sessionId: id });

export const queryEmbedBody = z.strictObject({
  sessionId: id,
  embedId: id,
  params: paramValues.optional(),
});

// ---------------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------------

const columnDefinition = z.strictObject({
  name: columnName,
  type: z.enum(['string', 'number', 'boolean', 'date']),
  required: z.boolean().optional(),
  label: z.string().max(200).optional(),
});

export const datasetSchemaBody = z.strictObject({
  columns: z.array(columnDefinition).min(1).max(100),
  partitionColumn: columnName,
  sortColumn: columnName.optional(),
  indexes: z
    .array(z.strictObject({ partitionColumn: columnName, sortColumn: columnName.optional() }))
    .max(2)
    .optional(),
});

export const createDatasetBody = z.strictObject({
  datasetId: id,
  name: z.string().min(1).max(200),
  schema: datasetSchemaBody,
});

export const importRowsBody = z.strictObject({
  format: z.enum(['csv', 'json', 'ndjson']),
  /** The file's text (CSV, a JSON array of objects, or NDJSON). */
  content: z.string().min(1).max(5_500_000),
});

const filterLiteral = z.union([z.string().max(1024), z.number(), z.boolean()]);
const widgetFilter = z.strictObject({
  column: columnName,
  op: z.enum(['eq', 'in', 'between', 'gte', 'lte', 'begins_with']),
  value: z.union([filterLiteral, z.strictObject({ param: id })]).optional(),
  values: z.array(filterLiteral).max(100).optional(),
});

const widgetQuery = z.strictObject({
  filters: z.array(widgetFilter).max(50).optional(),
  groupBy: z
    .array(z.strictObject({ column: columnName, bucket: z.enum(['day', 'week', 'month']).optional() }))
    .max(3)
    .optional(),
  metrics: z
    .array(
      z.strictObject({
        op: z.enum(['count', 'sum', 'avg', 'min', 'max']),
        column: columnName.optional(),
        as: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a column name')
          .optional(),
      }),
    )
    .max(10)
    .optional(),
  orderBy: z
    .array(z.strictObject({ key: z.string().max(64), direction: z.enum(['asc', 'desc']).optional() }))
    .max(5)
    .optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
  columns: z.array(columnName).max(100).optional(),
});

const widget = z.strictObject({
  id,
  type: z.enum(['table', 'number', 'bar', 'line']),
  title: z.string().min(1).max(200),
  datasetId: id,
  query: widgetQuery,
});

const parameterDefinition = z.strictObject({
  name: id,
  type: z.enum(['string', 'number', 'boolean', 'date', 'dateRange', 'stringList']),
  label: z.string().max(200).optional(),
  allowedValues: z
    .array(z.union([z.string().max(1024), z.number()]))
    .max(1000)
    .optional(),
  min: z.union([z.number(), z.string().max(40)]).optional(),
  max: z.union([z.number(), z.string().max(40)]).optional(),
  maxLength: z.number().int().min(1).max(4096).optional(),
  maxItems: z.number().int().min(1).max(1000).optional(),
  default: paramValue.optional(),
  required: z.boolean().optional(),
});

export const dashboardBody = z.strictObject({
  title: z.string().min(1).max(200),
  parameters: z.array(parameterDefinition).max(30).optional(),
  widgets: z.array(widget).max(50),
});

export const createDashboardBody = dashboardBody.extend({ dashboardId: id });

const embedResource = z.union([
  z.strictObject({ type: z.literal('dashboard'), id }),
  z.strictObject({ type: z.literal('chart'), id, dashboardId: id }),
]);
const origin = z.string().max(255);

export const createEmbedBody = z.strictObject({
  embedId: id,
  resource: embedResource,
  parameterModes: z.record(id, z.enum(['locked', 'editable', 'disabled'])).optional(),
  allowedOrigins: z.array(origin).max(20),
  maxTokenLifetimeSeconds: z.number().int().min(1).max(600).optional(),
  enabled: z.boolean().optional(),
});

export const updateEmbedBody = z
  .strictObject({
    parameterModes: z.record(id, z.enum(['locked', 'editable', 'disabled'])).optional(),
    allowedOrigins: z.array(origin).max(20).optional(),
    maxTokenLifetimeSeconds: z.number().int().min(1).max(600).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' });

const rlsSource = z.union([
  z.strictObject({
    kind: z.literal('identity'),
    claim: z.string().regex(/^(sub|cognito:groups|custom:[A-Za-z0-9_]{1,64})$/),
  }),
  z.strictObject({ kind: z.literal('lockedParam'), param: id }),
  z.strictObject({ kind: z.literal('mapping'), mappingId: id }),
]);

export const rlsRulesBody = z.strictObject({
  rules: z.array(z.strictObject({ column: columnName, source: rlsSource })).max(20),
});

export const rlsMappingBody = z.strictObject({
  entries: z
    .array(
      z.strictObject({
        principalType: z.enum(['user', 'group']),
        principal: z.string().min(1).max(128),
        values: z.union([z.literal('*'), z.array(z.string().max(512)).max(1000)]),
      }),
    )
    .max(1000),
});

export const revocationBody = z.union([
  z.strictObject({ scope: z.literal('token'), jti: id }),
  z.strictObject({ scope: z.literal('user'), sub: id }),
  z.strictObject({ scope: z.literal('embed'), embedId: id }),
]);

export const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(2048).optional(),
});

export const datasetIdPath = z.strictObject({ datasetId: id });
export const dashboardIdPath = z.strictObject({ dashboardId: id });
export const embedIdPath = z.strictObject({ embedId: id });
export const mappingIdPath = z.strictObject({ mappingId: id });
