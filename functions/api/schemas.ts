import * as z from 'zod/mini';
import { MAX_PARAMETERS, MAX_WIDGETS } from '#admin/dashboards';
import { MAX_ALLOWED_ORIGINS } from '#admin/embeds';
import { RESOURCE_ID_PATTERN } from '#control/keys';
import { MAX_MAPPING_ENTRIES, MAX_RLS_RULES, MAX_VALUES_PER_ENTRY } from '#datasets/rls';
import { MAX_ROLLUP_DIMENSIONS, MAX_ROLLUP_MEASURES, ROLLUP_ID_PATTERN } from '#datasets/rollups';
import { COLUMN_NAME_PATTERN, MAX_COLUMNS, MAX_INDEXES } from '#datasets/schema';
import { MAX_FILTERS, MAX_GROUP_BY, MAX_IN_VALUES, MAX_LIMIT, MAX_METRICS } from '#datasets/widget';
import { ID_PATTERN, MAX_EMBED_TOKEN_BYTES, MAX_TOKEN_LIFETIME_SECONDS } from '#token/format';

/**
 * Request schemas of the whole API: the handlers validate every body with them, and the OpenAPI
 * document is generated from them, so the two cannot disagree. Deep domain rules (a widget's
 * column exists in its dataset, an RLS rule's column exists…) are checked again by the domain
 * validators, which also answer 400 naming the field. Every bound the domain enforces is taken
 * from the domain's own constant, so the documented bound is the enforced one.
 *
 * `zod/mini` rather than `zod`: the same validator core, but tree-shakeable, which keeps each
 * Lambda bundle (and its cold start) small.
 */

const str = (max: number) => z.string().check(z.maxLength(max));
const nonEmpty = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
const list = <T extends z.core.SomeType>(item: T, max: number) => z.array(item).check(z.maxLength(max));

const id = z.string().check(z.regex(RESOURCE_ID_PATTERN, 'must be an id'));
/** Ids an embed token carries (`eid`, `rsc.id`): the token format's pattern applies as well. */
const tokenBoundId = z
  .string()
  .check(
    z.regex(RESOURCE_ID_PATTERN, 'must be an id'),
    z.regex(ID_PATTERN, 'must be an id starting with a letter or digit'),
  );
const columnName = z.string().check(z.regex(COLUMN_NAME_PATTERN, 'must be a column name'));
/**
 * Schemas that JSON Schema cannot describe by themselves, each with the schema that documents it
 * (the OpenAPI generator reads this).
 */
export const DOCUMENTED_AS = new WeakMap<z.core.$ZodType, z.ZodMiniType>();

/**
 * A record that keeps every own key of the body. `z.record` leaves a `__proto__` key out of its
 * output (so that the key cannot replace the output's prototype), and a parameter named
 * `__proto__` would then vanish instead of reaching the parameter policy, which refuses it as
 * PARAM_UNKNOWN. So the record checks keys and values and documents the shape, the `__proto__`
 * entry it skips is checked with the same key and value schemas, and the output is the parsed
 * body's own object, on which JSON.parse made `__proto__` an own property like any other key.
 */
function recordKeepingEveryKey<K extends z.core.$ZodRecordKey, V extends z.core.$ZodType>(key: K, value: V) {
  const record = z.record(key, value);
  const keepingEveryKey = z.custom<z.output<typeof record>, z.input<typeof record>>();
  const schema = keepingEveryKey.check(
    z.superRefine((input, ctx) => {
      const result = z.safeParse(record, input);
      if (!result.success) {
        for (const issue of result.error.issues) ctx.addIssue(issue as z.core.$ZodRawIssue);
        return;
      }
      const skipped = Object.getOwnPropertyDescriptor(input, '__proto__');
      if (!skipped) return;
      const keyResult = z.safeParse(key, '__proto__');
      if (!keyResult.success) {
        ctx.addIssue({ code: 'invalid_key', origin: 'record', issues: keyResult.error.issues, path: ['__proto__'] });
        return;
      }
      const valueResult = z.safeParse(value, skipped.value);
      for (const issue of valueResult.error?.issues ?? []) {
        ctx.addIssue({ ...issue, path: ['__proto__', ...issue.path] } as z.core.$ZodRawIssue);
      }
    }),
  );
  // The JSON Schema generator also visits the schema `.check()` derived this one from.
  DOCUMENTED_AS.set(keepingEveryKey, record).set(schema, record);
  return schema;
}

const dateRange = z.strictObject({ from: str(40), to: str(40) });
const paramValue = z.union([str(1024), z.number(), z.boolean(), dateRange, list(str(1024), 100)]);
const paramValues = recordKeepingEveryKey(str(64), paramValue);

// ---------------------------------------------------------------------------------------------
// Embed path
// ---------------------------------------------------------------------------------------------

export const issueEmbedTokenBody = z.strictObject({
  embedId: id,
  params: z.optional(paramValues),
  /** Cognito username of the viewer (signers only; omit for yourself). */
  viewer: z.optional(nonEmpty(128)),
  lifetimeSeconds: z.optional(int(1, MAX_TOKEN_LIFETIME_SECONDS)),
});

export const openEmbedSessionBody = z.strictObject({ token: nonEmpty(MAX_EMBED_TOKEN_BYTES) });

export const renewEmbedSessionBody = z.strictObject({ token: nonEmpty(MAX_EMBED_TOKEN_BYTES) });

export const sessionIdPath = z.strictObject({ sessionId: id });

export const queryEmbedBody = z.strictObject({
  sessionId: id,
  embedId: id,
  params: z.optional(paramValues),
});

// ---------------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------------

const columnDefinition = z.strictObject({
  name: columnName,
  type: z.enum(['string', 'number', 'boolean', 'date']),
  required: z.optional(z.boolean()),
  label: z.optional(str(200)),
});

export const datasetSchemaBody = z.strictObject({
  columns: z.array(columnDefinition).check(z.minLength(1), z.maxLength(MAX_COLUMNS)),
  partitionColumn: columnName,
  sortColumn: z.optional(columnName),
  indexes: z.optional(
    list(z.strictObject({ partitionColumn: columnName, sortColumn: z.optional(columnName) }), MAX_INDEXES),
  ),
});

export const createDatasetBody = z.strictObject({
  datasetId: id,
  name: nonEmpty(200),
  schema: datasetSchemaBody,
});

export const importRowsBody = z.strictObject({
  format: z.enum(['csv', 'json', 'ndjson']),
  /** The file's text (CSV, a JSON array of objects, or NDJSON). */
  content: nonEmpty(5_500_000),
});

const filterLiteral = z.union([str(1024), z.number(), z.boolean()]);
const widgetFilter = z.strictObject({
  column: columnName,
  op: z.enum(['eq', 'in', 'between', 'gte', 'lte', 'begins_with']),
  value: z.optional(z.union([filterLiteral, z.strictObject({ param: id })])),
  values: z.optional(list(filterLiteral, MAX_IN_VALUES)),
});

const widgetQuery = z.strictObject({
  filters: z.optional(list(widgetFilter, MAX_FILTERS)),
  groupBy: z.optional(
    list(z.strictObject({ column: columnName, bucket: z.optional(z.enum(['day', 'week', 'month'])) }), MAX_GROUP_BY),
  ),
  metrics: z.optional(
    list(
      z.strictObject({
        op: z.enum(['count', 'sum', 'avg', 'min', 'max']),
        column: z.optional(columnName),
        as: z.optional(columnName),
      }),
      MAX_METRICS,
    ),
  ),
  orderBy: z.optional(list(z.strictObject({ key: str(64), direction: z.optional(z.enum(['asc', 'desc'])) }), 5)),
  limit: z.optional(int(1, MAX_LIMIT)),
  columns: z.optional(list(columnName, 100)),
});

const widget = z.strictObject({
  id: tokenBoundId,
  type: z.enum(['table', 'number', 'bar', 'line']),
  title: nonEmpty(200),
  datasetId: id,
  query: widgetQuery,
});

const parameterDefinition = z.strictObject({
  name: id,
  type: z.enum(['string', 'number', 'boolean', 'date', 'dateRange', 'stringList']),
  label: z.optional(str(200)),
  allowedValues: z.optional(list(z.union([str(1024), z.number()]), 1000)),
  min: z.optional(z.union([z.number(), str(40)])),
  max: z.optional(z.union([z.number(), str(40)])),
  maxLength: z.optional(int(1, 4096)),
  maxItems: z.optional(int(1, 1000)),
  default: z.optional(paramValue),
  required: z.optional(z.boolean()),
});

const dashboardFields = {
  title: nonEmpty(200),
  parameters: z.optional(list(parameterDefinition, MAX_PARAMETERS)),
  widgets: list(widget, MAX_WIDGETS),
};

export const dashboardBody = z.strictObject(dashboardFields);

export const createDashboardBody = z.strictObject({ dashboardId: tokenBoundId, ...dashboardFields });

const embedResource = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('dashboard'), id: tokenBoundId }),
  z.strictObject({ type: z.literal('chart'), id: tokenBoundId, dashboardId: id }),
]);
const parameterModes = recordKeepingEveryKey(id, z.enum(['locked', 'editable', 'disabled']));
const origins = list(str(255), MAX_ALLOWED_ORIGINS);

export const createEmbedBody = z.strictObject({
  embedId: tokenBoundId,
  resource: embedResource,
  parameterModes: z.optional(parameterModes),
  allowedOrigins: origins,
  maxTokenLifetimeSeconds: z.optional(int(1, MAX_TOKEN_LIFETIME_SECONDS)),
  enabled: z.optional(z.boolean()),
});

export const updateEmbedBody = z
  .strictObject({
    parameterModes: z.optional(parameterModes),
    allowedOrigins: z.optional(origins),
    maxTokenLifetimeSeconds: z.optional(int(1, MAX_TOKEN_LIFETIME_SECONDS)),
    enabled: z.optional(z.boolean()),
  })
  .check(z.refine((body) => Object.keys(body).length > 0, 'must change at least one field'));

const rlsSource = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('identity'),
    claim: z.string().check(z.regex(/^(sub|cognito:groups|custom:[A-Za-z0-9_]{1,64})$/, 'must be a claim name')),
  }),
  z.strictObject({ kind: z.literal('lockedParam'), param: id }),
  z.strictObject({ kind: z.literal('mapping'), mappingId: id }),
]);

export const rlsRulesBody = z.strictObject({
  rules: list(z.strictObject({ column: columnName, source: rlsSource }), MAX_RLS_RULES),
});

export const rlsMappingBody = z.strictObject({
  entries: list(
    z.strictObject({
      principalType: z.enum(['user', 'group']),
      principal: nonEmpty(128),
      values: z.union([z.literal('*'), list(nonEmpty(512), MAX_VALUES_PER_ENTRY)]),
    }),
    MAX_MAPPING_ENTRIES,
  ),
});

export const revocationBody = z.discriminatedUnion('scope', [
  z.strictObject({ scope: z.literal('token'), jti: id }),
  z.strictObject({ scope: z.literal('user'), sub: id }),
  z.strictObject({ scope: z.literal('embed'), embedId: id }),
]);

export const auditQuery = z.strictObject({
  limit: z.optional(z.pipe(z.coerce.number(), int(1, 200))),
  cursor: z.optional(str(2048)),
});

/** A rollup declaration; the id comes from the path. Columns are checked against the schema by the domain. */
export const rollupBody = z.strictObject({
  dimensions: list(columnName, MAX_ROLLUP_DIMENSIONS),
  time: z.optional(z.strictObject({ column: columnName, granularity: z.enum(['day', 'hour']) })),
  measures: z
    .array(z.strictObject({ op: z.enum(['count', 'sum', 'min', 'max']), column: z.optional(columnName) }))
    .check(z.minLength(1), z.maxLength(MAX_ROLLUP_MEASURES)),
});

export const datasetIdPath = z.strictObject({ datasetId: id });
export const rollupPath = z.strictObject({
  datasetId: id,
  rollupId: z.string().check(z.regex(ROLLUP_ID_PATTERN, 'must be a rollup id')),
});
export const dashboardIdPath = z.strictObject({ dashboardId: id });
export const embedIdPath = z.strictObject({ embedId: id });
export const mappingIdPath = z.strictObject({ mappingId: id });
