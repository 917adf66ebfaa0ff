import { describe, expect, it } from 'vitest';
import { createEmbedBody, issueEmbedTokenBody, queryEmbedBody } from '../../functions/api/schemas.ts';
import { parseBody } from '../../functions/http/request.ts';

const embed = '"embedId":"e1","resource":{"type":"dashboard","id":"d1"},"allowedOrigins":[]';

describe('request schemas keep every name the caller sent', () => {
  it.each([
    ['POST /v1/embed-tokens params', issueEmbedTokenBody, '{"embedId":"e1","params":{"__proto__":"x","region":"EU"}}'],
    ['POST /v1/embed/query params', queryEmbedBody, '{"sessionId":"s1","embedId":"e1","params":{"__proto__":"x"}}'],
  ])('keeps a __proto__ parameter in %s as an own property, for the policy to refuse', (_name, schema, raw) => {
    // Act
    const body = parseBody(raw, false, schema);

    // Assess
    const params = body.params as Record<string, unknown>;
    expect(Object.keys(params)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(params, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
  });

  it('keeps constructor, prototype, toString and hasOwnProperty as plain names', () => {
    const raw = '{"embedId":"e1","params":{"constructor":"a","prototype":"b","toString":"c","hasOwnProperty":"d"}}';
    const body = parseBody(raw, false, issueEmbedTokenBody);
    expect(body.params).toEqual({ constructor: 'a', prototype: 'b', toString: 'c', hasOwnProperty: 'd' });
  });

  it('checks the value of a __proto__ parameter like any other', () => {
    expect(() =>
      parseBody('{"embedId":"e1","params":{"__proto__":{"from":"2025-01-01"}}}', false, issueEmbedTokenBody),
    ).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: { field: 'params.__proto__', reason: 'is invalid' },
      }),
    );
  });

  it('keeps a __proto__ parameter mode, so the embed check can refuse it instead of dropping it', () => {
    const body = parseBody(`{${embed},"parameterModes":{"__proto__":"locked"}}`, false, createEmbedBody);
    expect(Object.keys(body.parameterModes ?? {})).toEqual(['__proto__']);
  });

  it('refuses a __proto__ parameter mode that is no mode, naming the allowed ones', () => {
    expect(() => parseBody(`{${embed},"parameterModes":{"__proto__":"open"}}`, false, createEmbedBody)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: { field: 'parameterModes.__proto__', reason: 'must be one of "locked", "editable", "disabled"' },
      }),
    );
  });
});
