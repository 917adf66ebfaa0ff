import { ParamDisabled, ParamInvalid, ParamLocked, ParamMissing, ParamUnknown, ValidationFailed } from '#errors';
import { isPlainObject } from './format.ts';
import type { DateRange, EffectiveParameters, ParameterDefinition, ParameterMode, ParamValue } from './param-types.ts';

/**
 * The parameter policy (Metabase's model, made strict). Each declared parameter has a mode per
 * embed: `locked` (value only from the signed token), `editable` (value from the viewer, checked
 * against its declaration; the token may give a default) or `disabled` (the default; any value is
 * refused). Names are looked up in Maps built from the declarations, never on plain objects, so
 * `__proto__`, `constructor` and friends are just unknown names.
 */

const DEFAULT_MAX_LENGTH = 256;
const DEFAULT_MAX_ITEMS = 50;
const MODES: ReadonlySet<string> = new Set<ParameterMode>(['locked', 'editable', 'disabled']);

/** An embed's parameter policy: the dashboard's declarations and the embed's modes. */
export interface ParameterPolicy {
  readonly definitions: readonly ParameterDefinition[];
  /** Mode per parameter name; a parameter without an entry is `disabled`. */
  readonly modes: Readonly<Record<string, ParameterMode>>;
}

/** Input of `resolveParameters`. */
export interface ResolveParametersInput extends ParameterPolicy {
  /** The verified token's `prm`. */
  readonly tokenParams: unknown;
  /** The viewer's request values (untrusted). */
  readonly requestParams: unknown;
}

/**
 * The effective, typed parameter set. Locked values come only from the token (else the
 * declared default); editable values come from the request, else the token's default, else the
 * declared default; disabled parameters have no value. Unknown → `PARAM_UNKNOWN`, disabled →
 * `PARAM_DISABLED`, a viewer value for a locked parameter → `PARAM_LOCKED`, a bad value →
 * `PARAM_INVALID`, a required parameter without any value → `PARAM_MISSING`.
 */
export function resolveParameters(input: ResolveParametersInput): EffectiveParameters {
  const policy = compilePolicy(input);
  const fromToken = readTokenParams(policy, input.tokenParams);

  const fromRequest = new Map<string, ParamValue>();
  for (const [name, value] of ownEntries(input.requestParams, 'params')) {
    const entry = policy.get(name);
    if (!entry) throw new ParamUnknown(name);
    if (entry.mode === 'disabled') throw new ParamDisabled(name);
    if (entry.mode === 'locked') throw new ParamLocked(name);
    fromRequest.set(name, validateValue(entry.definition, value));
  }

  const effective: [string, ParamValue][] = [];
  for (const [name, { definition, mode }] of policy) {
    if (mode === 'disabled') continue;
    const value =
      (mode === 'editable' ? fromRequest.get(name) : undefined) ?? fromToken.get(name) ?? declaredDefault(definition);
    if (value === undefined) {
      if (definition.required) throw new ParamMissing(name);
      continue;
    }
    effective.push([name, value]);
  }
  return Object.freeze(Object.fromEntries(effective));
}

/**
 * Sign-time check of the values a signer puts in `prm`: only locked parameters and editable
 * defaults, each valid, and every required locked parameter present (or defaulted). Returns the
 * normalised `prm` to sign.
 */
export function prepareTokenParameters(
  input: ParameterPolicy & { readonly params: unknown },
): Readonly<Record<string, ParamValue>> {
  const policy = compilePolicy(input);
  const values = readTokenParams(policy, input.params);
  for (const [name, { definition, mode }] of policy) {
    if (mode === 'locked' && definition.required && !values.has(name) && declaredDefault(definition) === undefined) {
      throw new ParamMissing(name);
    }
  }
  return Object.freeze(Object.fromEntries(values));
}

interface PolicyEntry {
  readonly definition: ParameterDefinition;
  readonly mode: ParameterMode;
}

function compilePolicy(policy: ParameterPolicy): Map<string, PolicyEntry> {
  const modes = new Map<string, ParameterMode>();
  for (const [name, mode] of Object.entries(policy.modes ?? {})) {
    if (typeof mode === 'string' && MODES.has(mode)) modes.set(name, mode as ParameterMode);
  }
  const compiled = new Map<string, PolicyEntry>();
  for (const definition of policy.definitions) {
    compiled.set(definition.name, { definition, mode: modes.get(definition.name) ?? 'disabled' });
  }
  return compiled;
}

/** Values carried by a token: only locked parameters and editable defaults, each valid. */
function readTokenParams(policy: Map<string, PolicyEntry>, params: unknown): Map<string, ParamValue> {
  const values = new Map<string, ParamValue>();
  for (const [name, value] of ownEntries(params, 'params')) {
    const entry = policy.get(name);
    if (!entry) throw new ParamUnknown(name);
    if (entry.mode === 'disabled') throw new ParamDisabled(name);
    values.set(name, validateValue(entry.definition, value));
  }
  return values;
}

function ownEntries(value: unknown, field: string): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) throw new ValidationFailed(field, 'must be an object');
  return Object.keys(value).map((name) => [name, value[name]]);
}

function declaredDefault(definition: ParameterDefinition): ParamValue | undefined {
  if (definition.default === undefined) return undefined;
  // A declaration whose default breaks its own rules must not leak an unchecked value.
  return validateValue(definition, definition.default);
}

/** Checks one value against its declaration and returns a fresh, typed copy. */
export function validateValue(definition: ParameterDefinition, value: unknown): ParamValue {
  const name = definition.name;
  switch (definition.type) {
    case 'string':
      return validateString(definition, value);
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ParamInvalid(name, 'expected a number');
      if (typeof definition.min === 'number' && value < definition.min) throw new ParamInvalid(name, 'below minimum');
      if (typeof definition.max === 'number' && value > definition.max) throw new ParamInvalid(name, 'above maximum');
      if (definition.allowedValues && !definition.allowedValues.includes(value)) {
        throw new ParamInvalid(name, 'not an allowed value');
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new ParamInvalid(name, 'expected a boolean');
      return value;
    case 'date':
      return validateDate(definition, value);
    case 'dateRange': {
      if (!isPlainObject(value)) throw new ParamInvalid(name, 'expected { from, to }');
      const keys = Object.keys(value);
      if (keys.length !== 2 || !Object.hasOwn(value, 'from') || !Object.hasOwn(value, 'to')) {
        throw new ParamInvalid(name, 'expected exactly { from, to }');
      }
      const from = validateDate(definition, value.from);
      const to = validateDate(definition, value.to);
      if (parseIsoDate(from)!.start > parseIsoDate(to)!.start) throw new ParamInvalid(name, 'from is after to');
      return Object.freeze<DateRange>({ from, to });
    }
    case 'stringList': {
      if (!Array.isArray(value)) throw new ParamInvalid(name, 'expected a list of strings');
      const maxItems = definition.maxItems ?? DEFAULT_MAX_ITEMS;
      if (value.length > maxItems) throw new ParamInvalid(name, `more than ${maxItems} items`);
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        if (!Object.hasOwn(value, i)) throw new ParamInvalid(name, 'expected a list of strings');
        items.push(validateString(definition, value[i]));
      }
      if (new Set(items).size !== items.length) throw new ParamInvalid(name, 'duplicate items');
      return Object.freeze(items);
    }
    default:
      throw new ParamInvalid(name, 'unsupported type');
  }
}

function validateString(definition: ParameterDefinition, value: unknown): string {
  const name = definition.name;
  if (typeof value !== 'string') throw new ParamInvalid(name, 'expected a string');
  const maxLength = definition.maxLength ?? DEFAULT_MAX_LENGTH;
  if (value.length > maxLength) throw new ParamInvalid(name, `longer than ${maxLength} characters`);
  if (definition.allowedValues && !definition.allowedValues.includes(value)) {
    throw new ParamInvalid(name, 'not an allowed value');
  }
  return value;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

/** The instants an ISO date covers: a whole UTC day for `YYYY-MM-DD`, one instant for a date-time. */
interface DateSpan {
  readonly start: number;
  readonly end: number;
}

/** `YYYY-MM-DD` or a full ISO date-time with offset; the date must exist on the calendar. */
function validateDate(definition: ParameterDefinition, value: unknown): string {
  const name = definition.name;
  const span = typeof value === 'string' ? parseIsoDate(value) : undefined;
  if (!span) throw new ParamInvalid(name, 'expected an ISO date');
  const min = typeof definition.min === 'string' ? parseIsoDate(definition.min) : undefined;
  if (min && span.start < min.start) throw new ParamInvalid(name, 'before minimum');
  const max = typeof definition.max === 'string' ? parseIsoDate(definition.max) : undefined;
  if (max && span.start > max.end) throw new ParamInvalid(name, 'after maximum');
  return value as string;
}

/** Parses an ISO date strictly (real calendar dates and times only); `undefined` otherwise. */
function parseIsoDate(value: string): DateSpan | undefined {
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, hh, mi, ss, fraction, , sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return undefined;
  // setUTCFullYear, unlike Date.UTC, keeps years below 100 as they are; both roll over (Feb 30 →
  // Mar 2), so a date that does not exist comes back as another day.
  const midnight = new Date(0).setUTCFullYear(year, month - 1, day);
  if (new Date(midnight).getUTCDate() !== day) return undefined;
  if (hh === undefined) return { start: midnight, end: midnight + 86_400_000 - 1 };
  const hours = Number(hh);
  const minutes = Number(mi);
  const seconds = ss === undefined ? 0 : Number(ss);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  let offsetMinutes = 0;
  if (sign !== undefined) {
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  }
  const millis = fraction === undefined ? 0 : Math.round(Number(fraction) * 1000);
  const instant = midnight + ((hours * 60 + minutes - offsetMinutes) * 60 + seconds) * 1000 + millis;
  return { start: instant, end: instant };
}
