import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  createEmbedBody,
  importRowsBody,
  revocationBody,
  rlsMappingBody,
  updateEmbedBody,
} from '../../functions/api/schemas.ts';
import { parseBody, validate } from '../../functions/http/request.ts';

/** The `details` of the VALIDATION_FAILED that `parseBody` throws for a raw body. */
function refusal(schema: z.ZodMiniType, raw: string): unknown {
  try {
    parseBody(raw, false, schema);
  } catch (error) {
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    return (error as { details?: unknown }).details;
  }
  throw new Error(`accepted ${raw}`);
}

const embed = { embedId: 'e1', allowedOrigins: [] };

describe('parseBody: a refused enum or union says which values are allowed', () => {
  it.each([
    [
      'a discriminator with an unknown value',
      revocationBody,
      { scope: 'nope' },
      'scope',
      'must be one of "token", "user", "embed"',
    ],
    [
      'a discriminator of another type',
      revocationBody,
      { scope: 5 },
      'scope',
      'must be one of "token", "user", "embed"',
    ],
    ['a missing discriminator', revocationBody, {}, 'scope', 'is required (one of "token", "user", "embed")'],
    [
      'a nested discriminator',
      createEmbedBody,
      { ...embed, resource: { type: 'report', id: 'd1' } },
      'resource.type',
      'must be one of "dashboard", "chart"',
    ],
    [
      'an enum value',
      importRowsBody,
      { format: 'xml', content: 'a' },
      'format',
      'must be one of "csv", "json", "ndjson"',
    ],
    [
      'a missing enum value',
      importRowsBody,
      { content: 'a' },
      'format',
      'is required (one of "csv", "json", "ndjson")',
    ],
    [
      'an enum value inside a record',
      createEmbedBody,
      { ...embed, resource: { type: 'dashboard', id: 'd1' }, parameterModes: { region: 'hidden' } },
      'parameterModes.region',
      'must be one of "locked", "editable", "disabled"',
    ],
    [
      'a value that fits no alternative of a plain union',
      rlsMappingBody,
      { entries: [{ principalType: 'user', principal: 'alice', values: 'all' }] },
      'entries.0.values',
      'must be "*" or array',
    ],
    [
      'a missing value of a plain union',
      rlsMappingBody,
      { entries: [{ principalType: 'user', principal: 'alice' }] },
      'entries.0.values',
      'is required',
    ],
  ])('%s', (_name, schema, body, field, reason) => {
    expect(refusal(schema, JSON.stringify(body))).toEqual({ field, reason });
  });

  it('keeps "is invalid" when the value got into one alternative of a plain union and failed inside it', () => {
    // Prepare: a value that is an object, like the date range alternative, but not a valid one.
    const schema = z.strictObject({ v: z.union([z.string(), z.strictObject({ from: z.string(), to: z.string() })]) });

    // Act
    const details = refusal(schema, '{"v":{"from":1}}');

    // Assess
    expect(details).toEqual({ field: 'v', reason: 'is invalid' });
  });

  it('lists a single allowed literal without "one of"', () => {
    const schema = z.strictObject({ v: z.literal('yes') });
    expect(refusal(schema, '{"v":"no"}')).toEqual({ field: 'v', reason: 'must be "yes"' });
  });
});

describe('parseBody: other issues name the field and the rule', () => {
  it('names an invalid record key and says why', () => {
    // Act
    const details = refusal(
      createEmbedBody,
      JSON.stringify({
        ...embed,
        resource: { type: 'dashboard', id: 'd1' },
        parameterModes: { 'no spaces': 'locked' },
      }),
    );

    // Assess
    expect(details).toEqual({ field: 'parameterModes.no spaces', reason: 'is not a valid key: must be an id' });
  });

  it("gives a refinement's own message", () => {
    expect(refusal(updateEmbedBody, '{}')).toEqual({ field: 'body', reason: 'must change at least one field' });
  });

  it('refuses malformed JSON as the body', () => {
    expect(refusal(revocationBody, '{"scope":')).toEqual({ field: 'body', reason: 'must be valid JSON' });
  });
});

describe('validate', () => {
  it('prefixes the field with where the value came from', () => {
    const schema = z.strictObject({ kind: z.enum(['a', 'b']) });
    expect(() => validate(schema, { kind: 'c' }, 'query')).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: { field: 'query.kind', reason: 'must be one of "a", "b"' },
      }),
    );
  });
});
