import type * as z from 'zod/mini';
import { ValidationFailed } from '#errors';

/** Largest JSON body a route accepts, unless it says otherwise (imports do). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Parses a JSON request body and validates it with a zod schema. Every failure is a
 * VALIDATION_FAILED (400) naming the first offending field; nothing about the parser leaks.
 */
export function parseBody<S extends z.ZodMiniType>(
  raw: string | null | undefined,
  isBase64Encoded: boolean,
  schema: S,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): z.output<S> {
  const text = raw == null ? '' : isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes)
    throw new ValidationFailed('body', `must be at most ${maxBytes} bytes`);
  let json: unknown;
  if (text.trim() === '') {
    json = {};
  } else {
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidationFailed('body', 'must be valid JSON');
    }
  }
  return validate(schema, json);
}

/** Validates any value (path parameters, query strings) against a schema, naming the field on failure. */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, fieldPrefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const segments = issue ? issue.path.map(String) : [];
  // An unknown key is named itself, so the caller sees which field to remove.
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) segments.push(issue.keys[0]);
  const path = segments.join('.');
  const field = [fieldPrefix, path].filter((p) => p !== '').join('.') || 'body';
  throw new ValidationFailed(field, describeIssue(issue, value));
}

/** The value at an issue's path, to tell "missing" from "wrong type". */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** The caller-facing reason of an issue: what the field must be, never zod's "Invalid input". */
function describeIssue(issue: z.core.$ZodIssue | undefined, root: unknown): string {
  if (!issue) return 'is invalid';
  const missing = valueAt(root, issue.path) === undefined;
  switch (issue.code) {
    case 'invalid_type':
      return missing ? 'is required' : `must be ${issue.expected}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'too_small':
      return `is too small (minimum ${String(issue.minimum)})`;
    case 'too_big':
      return `is too big (maximum ${String(issue.maximum)})`;
    case 'invalid_format':
      // Patterns carry their own caller-facing message in the schema ("must be an id").
      return issue.format === 'regex' ? issue.message : `must be a valid ${issue.format}`;
    case 'invalid_value':
      return oneOf(issue.values, missing);
    case 'invalid_union':
      return describeUnion(issue, missing);
    case 'invalid_key': {
      const [inner] = issue.issues;
      // The inner issue is about the key itself, which is the last segment of the path.
      return inner ? `is not a valid key: ${describeIssue(inner, issue.path.at(-1))}` : 'is not a valid key';
    }
    case 'custom':
      // Refinements carry their own caller-facing message in the schema ("must change at least one field").
      return issue.message;
    default:
      return 'is invalid';
  }
}

/** `must be one of "token", "user", "embed"`; a missing value is `is required` with the same list. */
function oneOf(values: readonly unknown[], missing: boolean): string {
  const listed = values.map((value) => JSON.stringify(value)).join(', ');
  if (missing) return `is required (one of ${listed})`;
  return values.length === 1 ? `must be ${listed}` : `must be one of ${listed}`;
}

/**
 * A discriminated union names its allowed discriminator values. A plain union lists its
 * alternatives when each of them refused the value as a whole (`must be "*" or array`); when the
 * value got into one alternative and failed inside it, which one the caller meant is a guess, so
 * the field is only called invalid.
 */
function describeUnion(issue: z.core.$ZodIssueInvalidUnion, missing: boolean): string {
  if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
    return oneOf(issue.options, missing);
  }
  const alternatives: string[] = [];
  for (const [first] of issue.errors) {
    if (first === undefined || first.path.length > 0) return 'is invalid';
    if (first.code === 'invalid_type') alternatives.push(first.expected);
    else if (first.code === 'invalid_value') alternatives.push(...first.values.map((value) => JSON.stringify(value)));
    else return 'is invalid';
  }
  if (alternatives.length === 0) return 'is invalid';
  if (missing) return 'is required';
  const distinct = [...new Set(alternatives)];
  const last = distinct.pop() as string;
  return `must be ${distinct.length > 0 ? `${distinct.join(', ')} or ${last}` : last}`;
}
