import { describe, expect, it } from 'vitest';
import type { ParameterDefinition, ParameterMode } from '#token/param-types';
import { prepareTokenParameters, resolveParameters } from '#token/params';

const definitions: ParameterDefinition[] = [
  { name: 'customer', type: 'string', required: true },
  { name: 'region', type: 'string', allowedValues: ['EU', 'US', 'APAC'] },
  { name: 'period', type: 'dateRange', min: '2020-01-01', max: '2030-12-31' },
  { name: 'top', type: 'number', min: 1, max: 100, default: 10 },
  { name: 'showTotals', type: 'boolean' },
  { name: 'tags', type: 'stringList', maxItems: 3, maxLength: 8 },
  { name: 'day', type: 'date', min: '2024-01-01', max: '2024-12-31' },
  { name: 'internalCost', type: 'number' },
  { name: 'constructor', type: 'string' },
];
const modes: Record<string, ParameterMode> = {
  customer: 'locked',
  region: 'locked',
  period: 'editable',
  top: 'editable',
  showTotals: 'editable',
  tags: 'editable',
  day: 'editable',
  internalCost: 'disabled',
};

function resolve(tokenParams: unknown, requestParams: unknown) {
  return resolveParameters({ definitions, modes, tokenParams, requestParams });
}

describe('resolveParameters', () => {
  it('returns locked values from the token, editable ones from the request, then defaults', () => {
    // Act
    const effective = resolve(
      { customer: 'c-42', region: 'EU', period: { from: '2024-01-01', to: '2024-03-31' } },
      { top: 25, tags: ['a', 'b'], showTotals: false },
    );

    // Assess
    expect(effective).toEqual({
      customer: 'c-42',
      region: 'EU',
      period: { from: '2024-01-01', to: '2024-03-31' },
      top: 25,
      showTotals: false,
      tags: ['a', 'b'],
    });
    expect(Object.isFrozen(effective)).toBe(true);
  });

  it("uses the token's editable default until the viewer changes it", () => {
    const token = { customer: 'c-42', period: { from: '2024-01-01', to: '2024-01-31' } };
    expect(resolve(token, {}).period).toEqual({ from: '2024-01-01', to: '2024-01-31' });
    expect(resolve(token, { period: { from: '2024-02-01', to: '2024-02-29' } }).period).toEqual({
      from: '2024-02-01',
      to: '2024-02-29',
    });
  });

  it('falls back to the declared default of an editable parameter', () => {
    expect(resolve({ customer: 'c-42' }, {}).top).toBe(10);
  });

  it.each([
    ['the same value', { customer: 'c-42' }],
    ['another value', { customer: 'c-43' }],
    ['null', { customer: null }],
    ['another locked one', { region: 'US' }],
  ])('refuses a viewer value for a locked parameter (%s)', (_name, request) => {
    expect(() => resolve({ customer: 'c-42', region: 'EU' }, request)).toThrow(
      expect.objectContaining({ code: 'PARAM_LOCKED', status: 400 }),
    );
  });

  it('never lets an editable value override a locked one, even when the token omits it', () => {
    // region is locked and absent from the token: the viewer still cannot set it
    expect(() => resolve({ customer: 'c-42' }, { region: 'US' })).toThrow(
      expect.objectContaining({ code: 'PARAM_LOCKED' }),
    );
    expect(resolve({ customer: 'c-42' }, {})).not.toHaveProperty('region');
  });

  it('refuses a disabled parameter from the viewer and from the token', () => {
    expect(() => resolve({ customer: 'c-42' }, { internalCost: 1 })).toThrow(
      expect.objectContaining({ code: 'PARAM_DISABLED', details: { parameter: 'internalCost' } }),
    );
    expect(() => resolve({ customer: 'c-42', internalCost: 1 }, {})).toThrow(
      expect.objectContaining({ code: 'PARAM_DISABLED' }),
    );
  });

  it('treats a parameter without a mode as disabled', () => {
    expect(() => resolve({ customer: 'c-42' }, { constructor: 'x' })).toThrow(
      expect.objectContaining({ code: 'PARAM_DISABLED', details: { parameter: 'constructor' } }),
    );
  });

  it.each([['nope'], ['__proto__'], ['toString'], ['hasOwnProperty'], ['prototype']])(
    'refuses the unknown parameter %s with 400 naming it',
    (name) => {
      const request = JSON.parse(`{"${name}": "x"}`);
      expect(() => resolve({ customer: 'c-42' }, request)).toThrow(
        expect.objectContaining({ code: 'PARAM_UNKNOWN', status: 400, details: { parameter: name } }),
      );
    },
  );

  it('refuses a required locked parameter with no value', () => {
    expect(() => resolve({}, {})).toThrow(
      expect.objectContaining({ code: 'PARAM_MISSING', details: { parameter: 'customer' } }),
    );
  });

  it.each([
    ['a number for a string', { region: 1 }],
    ['a value outside allowedValues', { region: 'MARS' }],
  ])('refuses a token carrying %s', (_name, token) => {
    expect(() => resolve({ customer: 'c-42', ...token }, {})).toThrow(
      expect.objectContaining({ code: 'PARAM_INVALID' }),
    );
  });

  it.each([
    ['a string for a number', { top: '5' }],
    ['NaN', { top: Number.NaN }],
    ['Infinity', { top: Number.POSITIVE_INFINITY }],
    ['below the minimum', { top: 0 }],
    ['above the maximum', { top: 101 }],
    ['a string for a boolean', { showTotals: 'true' }],
    ['a number for a boolean', { showTotals: 1 }],
    ['a list too long', { tags: ['a', 'b', 'c', 'd'] }],
    ['a list item too long', { tags: ['123456789'] }],
    ['a list with a non-string', { tags: ['a', 1] }],
    ['a list with duplicates', { tags: ['a', 'a'] }],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of this case
    ['a sparse list', { tags: [, 'a'] }],
    ['a string for a list', { tags: 'a' }],
    ['an impossible date', { day: '2024-02-30' }],
    ['a non-leap 29 February', { day: '2023-02-29' }],
    ['month 13', { day: '2024-13-01' }],
    ['a date before the minimum', { day: '2023-12-31' }],
    ['a date after the maximum', { day: '2025-01-01' }],
    ['a date-time after the maximum', { day: '2025-01-01T00:00:00Z' }],
    ['hour 24', { day: '2024-05-01T24:00:00Z' }],
    ['a loose date format', { day: '2024-5-1' }],
    ['a date with trailing text', { day: '2024-05-01 OR 1=1' }],
    ['a range with from after to', { period: { from: '2024-03-01', to: '2024-02-01' } }],
    ['a range with an extra member', { period: { from: '2024-01-01', to: '2024-02-01', x: 1 } }],
    ['a range missing to', { period: { from: '2024-01-01' } }],
    ['a range as a string', { period: '2024-01-01/2024-02-01' }],
    ['a range before the minimum', { period: { from: '2019-12-31', to: '2020-02-01' } }],
  ])('refuses %s', (_name, request) => {
    expect(() => resolve({ customer: 'c-42' }, request)).toThrow(
      expect.objectContaining({ code: 'PARAM_INVALID', details: { parameter: Object.keys(request)[0] } }),
    );
  });

  it('accepts the last day of a date-only maximum and real leap days', () => {
    expect(resolve({ customer: 'c-42' }, { day: '2024-12-31T23:59:59Z' }).day).toBe('2024-12-31T23:59:59Z');
    expect(resolve({ customer: 'c-42' }, { day: '2024-02-29' }).day).toBe('2024-02-29');
  });

  it.each([[[]], ['params'], [42]])('refuses request params that are not an object (%j)', (request) => {
    expect(() => resolve({ customer: 'c-42' }, request)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('refuses a string longer than the default maximum of 256', () => {
    const defs: ParameterDefinition[] = [{ name: 'q', type: 'string' }];
    expect(() =>
      resolveParameters({
        definitions: defs,
        modes: { q: 'editable' },
        tokenParams: {},
        requestParams: { q: 'x'.repeat(257) },
      }),
    ).toThrow(expect.objectContaining({ code: 'PARAM_INVALID' }));
  });

  it('copies values so later changes to the input do not leak in', () => {
    const tags = ['a'];
    const effective = resolve({ customer: 'c-42' }, { tags });
    tags.push('b');
    expect(effective.tags).toEqual(['a']);
  });
});

describe('prepareTokenParameters', () => {
  it('accepts locked values and editable defaults', () => {
    expect(prepareTokenParameters({ definitions, modes, params: { customer: 'c-42', top: 5 } })).toEqual({
      customer: 'c-42',
      top: 5,
    });
  });

  it.each([
    ['an unknown parameter', { customer: 'c', nope: 1 }, 'PARAM_UNKNOWN'],
    ['a disabled parameter', { customer: 'c', internalCost: 1 }, 'PARAM_DISABLED'],
    ['an invalid locked value', { customer: 'c', region: 'MARS' }, 'PARAM_INVALID'],
    ['no value for a required locked parameter', { region: 'EU' }, 'PARAM_MISSING'],
  ])('refuses %s at sign time', (_name, params, code) => {
    expect(() => prepareTokenParameters({ definitions, modes, params })).toThrow(expect.objectContaining({ code }));
  });
});
