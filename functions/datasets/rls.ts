import { DatasetSchemaInvalid } from '#errors';
import type { Caller } from '#shared/identity';
import type { EffectiveParameters, ParamValue } from '#token/param-types';
import { type DatasetSchema, findColumn } from './schema.ts';
import type { RlsMapping, RlsMappingEntry, RlsRule, RlsSource } from '#control/records';

export type { RlsMapping, RlsMappingEntry, RlsRule, RlsSource } from '#control/records';

/**
 * Row-level security. A rule restricts one column to values taken from the verified identity,
 * from a locked token parameter, or from a per-user / per-group mapping stored in DynamoDB.
 *
 * Semantics (deny by default):
 * - rules on different columns AND together;
 * - the values granted for one column (by one or several rules) OR together;
 * - a column whose rules grant nothing admits no row, and a dataset without rules admits none;
 * - `*` (every value) is only ever granted by an explicit mapping entry.
 */

/**
 * The effective RLS context of one viewer on one dataset: per restricted column, the sorted
 * allowed values or `*`. `denyAll` means no row at all may be returned; the compiler then
 * returns an empty result without reading the data table.
 */
export interface EffectiveRlsContext {
  readonly denyAll: boolean;
  readonly columns: Readonly<Record<string, readonly string[] | '*'>>;
}

export const MAX_RLS_RULES = 20;
export const MAX_MAPPING_ENTRIES = 1000;
export const MAX_VALUES_PER_ENTRY = 1000;
const CLAIM_PATTERN = /^(sub|cognito:groups|custom:[A-Za-z0-9_]{1,64})$/;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A context that admits nothing (used when a dataset has no rules or a rule is broken). */
export const DENY_ALL: EffectiveRlsContext = Object.freeze({ denyAll: true, columns: Object.freeze({}) });

/**
 * Validates untrusted RLS rules against a dataset schema (every column must exist, every
 * source must be well-formed). Throws `DatasetSchemaInvalid`.
 */
export function validateRlsRules(input: unknown, schema: DatasetSchema): RlsRule[] {
  if (!Array.isArray(input) || input.length > MAX_RLS_RULES) {
    throw new DatasetSchemaInvalid(`rules must be a list of at most ${MAX_RLS_RULES}`);
  }
  return input.map((raw): RlsRule => {
    if (!isRecord(raw) || typeof raw.column !== 'string' || !findColumn(schema, raw.column)) {
      throw new DatasetSchemaInvalid('an RLS rule names an unknown column', {
        column: isRecord(raw) ? String(raw.column).slice(0, 80) : undefined,
      });
    }
    const source = raw.source;
    if (!isRecord(source)) throw new DatasetSchemaInvalid('an RLS rule needs a source', { column: raw.column });
    if (source.kind === 'identity' && typeof source.claim === 'string' && CLAIM_PATTERN.test(source.claim)) {
      return { column: raw.column, source: { kind: 'identity', claim: source.claim } };
    }
    if (source.kind === 'lockedParam' && typeof source.param === 'string' && ID_PATTERN.test(source.param)) {
      return { column: raw.column, source: { kind: 'lockedParam', param: source.param } };
    }
    if (source.kind === 'mapping' && typeof source.mappingId === 'string' && ID_PATTERN.test(source.mappingId)) {
      return { column: raw.column, source: { kind: 'mapping', mappingId: source.mappingId } };
    }
    throw new DatasetSchemaInvalid('an RLS rule source is invalid', { column: raw.column });
  });
}

/** Validates an untrusted mapping document. Throws `DatasetSchemaInvalid`. */
export function validateRlsMapping(input: unknown): RlsMapping {
  if (!isRecord(input) || typeof input.id !== 'string' || !ID_PATTERN.test(input.id)) {
    throw new DatasetSchemaInvalid('a mapping needs an id matching ^[A-Za-z0-9_-]{1,64}$');
  }
  if (!Array.isArray(input.entries) || input.entries.length > MAX_MAPPING_ENTRIES) {
    throw new DatasetSchemaInvalid(`entries must be a list of at most ${MAX_MAPPING_ENTRIES}`);
  }
  const entries = input.entries.map((raw): RlsMappingEntry => {
    if (!isRecord(raw) || (raw.principalType !== 'user' && raw.principalType !== 'group')) {
      throw new DatasetSchemaInvalid('a mapping entry needs principalType user or group');
    }
    if (typeof raw.principal !== 'string' || raw.principal.length === 0 || raw.principal.length > 128) {
      throw new DatasetSchemaInvalid('a mapping entry needs a principal');
    }
    const values = raw.values;
    if (values === '*') return { principalType: raw.principalType, principal: raw.principal, values: '*' };
    if (
      !Array.isArray(values) ||
      values.length > MAX_VALUES_PER_ENTRY ||
      !values.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 512)
    ) {
      throw new DatasetSchemaInvalid('mapping values must be "*" or a list of non-empty strings', {
        principal: raw.principal,
      });
    }
    return { principalType: raw.principalType, principal: raw.principal, values: [...new Set(values as string[])] };
  });
  return { id: input.id, entries };
}

/**
 * Resolves the RLS context of one viewer: for every restricted column, the union of what its
 * rules grant. `rules` undefined or empty → deny all (deny by default). A rule whose mapping is
 * missing grants nothing (fail closed). `lockedParams` must hold only the parameters the embed
 * locks, so a viewer can never widen its own rows through an editable parameter.
 */
export function resolveRlsContext(input: {
  readonly rules: readonly RlsRule[] | undefined;
  readonly caller: Caller;
  readonly lockedParams: EffectiveParameters;
  readonly mappings: ReadonlyMap<string, RlsMapping> | readonly RlsMapping[];
}): EffectiveRlsContext {
  const rules = input.rules ?? [];
  if (rules.length === 0) return DENY_ALL;
  const mappings =
    input.mappings instanceof Map
      ? input.mappings
      : new Map((input.mappings as readonly RlsMapping[]).map((mapping) => [mapping.id, mapping]));
  const granted = new Map<string, Set<string> | '*'>();
  for (const rule of rules) {
    const current = granted.get(rule.column) ?? new Set<string>();
    if (current === '*') continue;
    const values = grantedValues(rule.source, input.caller, input.lockedParams, mappings);
    if (values === '*') {
      granted.set(rule.column, '*');
      continue;
    }
    for (const value of values) current.add(value);
    granted.set(rule.column, current);
  }
  const columns: Record<string, readonly string[] | '*'> = {};
  let denyAll = false;
  for (const [column, values] of [...granted.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (values === '*') {
      columns[column] = '*';
    } else {
      if (values.size === 0) denyAll = true;
      columns[column] = Object.freeze([...values].sort());
    }
  }
  return Object.freeze({ denyAll, columns: Object.freeze(columns) });
}

/** The mapping ids a rule set refers to (what `resolveRlsContext` needs loaded). */
export function referencedMappingIds(rules: readonly RlsRule[]): string[] {
  return [...new Set(rules.flatMap((rule) => (rule.source.kind === 'mapping' ? [rule.source.mappingId] : [])))].sort();
}

function grantedValues(
  source: RlsSource,
  caller: Caller,
  lockedParams: EffectiveParameters,
  mappings: ReadonlyMap<string, RlsMapping>,
): readonly string[] | '*' {
  switch (source.kind) {
    case 'identity': {
      if (source.claim === 'sub') return [caller.sub];
      if (source.claim === 'cognito:groups') return caller.groups;
      const attribute = caller.attributes[source.claim.slice('custom:'.length)];
      return attribute === undefined || attribute === '' ? [] : [attribute];
    }
    case 'lockedParam': {
      // A literal "*" in a parameter is just the string "*": wildcards come only from mappings.
      return paramValues(lockedParams[source.param]);
    }
    case 'mapping': {
      const mapping = mappings.get(source.mappingId);
      if (!mapping) return [];
      const values = new Set<string>();
      for (const entry of mapping.entries) {
        const applies =
          entry.principalType === 'user' ? entry.principal === caller.sub : caller.groups.includes(entry.principal);
        if (!applies) continue;
        if (entry.values === '*') return '*';
        for (const value of entry.values) values.add(value);
      }
      return [...values];
    }
  }
}

function paramValues(value: ParamValue | undefined): readonly string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  // A date range cannot name rows; it grants nothing.
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
