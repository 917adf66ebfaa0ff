import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketDate } from '#datasets/aggregate';
import {
  compareCodePoints,
  compareValues,
  decodeKeyValue,
  encodeKeyValue,
  normaliseDate,
  parseCell,
} from '#datasets/values';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('order-preserving key encoding', () => {
  it('keeps the order of numbers, including negatives, zero and fractions', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (a, b) => {
          // Prepare / Act
          const order = compareCodePoints(encodeKeyValue('number', a), encodeKeyValue('number', b));
          // Assess
          expect(sign(order)).toBe(sign(compareValues(a === 0 ? 0 : a, b === 0 ? 0 : b)));
          expect(decodeKeyValue('number', encodeKeyValue('number', a))).toBe(a === 0 ? 0 : a);
        },
      ),
    );
  });

  it('keeps the order of strings even with a row id appended after the # separator', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite' }), fc.string({ unit: 'grapheme-composite' }), (a, b) => {
        fc.pre(a !== b);
        // Prepare / Act: what DynamoDB compares are the full sort keys
        const keyA = `${encodeKeyValue('string', a)}#0123abc.0`;
        const keyB = `${encodeKeyValue('string', b)}#ffff.1`;
        // Assess
        expect(sign(compareCodePoints(keyA, keyB))).toBe(sign(compareCodePoints(a, b)));
        expect(decodeKeyValue('string', encodeKeyValue('string', a))).toBe(a);
      }),
    );
  });

  it('encodes strings with spaces and symbols below # so that "a b" sorts after "a"', () => {
    // Prepare
    const a = `${encodeKeyValue('string', 'a')}#row1`;
    const ab = `${encodeKeyValue('string', 'a b')}#row2`;
    // Act / Assess
    expect(compareCodePoints(a, ab)).toBe(-1);
  });
});

describe('cell parsing', () => {
  it('parses each type and explains refusals', () => {
    expect(parseCell('number', '1e3')).toEqual({ ok: true, value: 1000 });
    expect(parseCell('number', '0x10')).toEqual({ ok: false, reason: 'expected a finite number' });
    expect(parseCell('number', 'Infinity')).toEqual({ ok: false, reason: 'expected a finite number' });
    expect(parseCell('boolean', 'true')).toEqual({ ok: true, value: true });
    expect(parseCell('boolean', 'yes')).toEqual({ ok: false, reason: 'expected true or false' });
    expect(parseCell('date', '2024-02-30')).toEqual({ ok: false, reason: 'expected an ISO date or date-time' });
    expect(parseCell('date', '2024-02-29')).toEqual({ ok: true, value: '2024-02-29T00:00:00.000Z' });
    expect(parseCell('string', '')).toEqual({ ok: true, value: null });
  });

  it('normalises date-times with offsets to UTC', () => {
    expect(normaliseDate('2024-03-01T01:30:00+02:00')).toBe('2024-02-29T23:30:00.000Z');
    expect(normaliseDate('2024-03-01 10:00')).toBe('2024-03-01T10:00:00.000Z');
    expect(normaliseDate('2024-03-01T24:00:00Z')).toBeUndefined();
  });
});

describe('date buckets', () => {
  it('uses UTC days, ISO weeks starting Monday, and months', () => {
    expect(bucketDate('2024-01-07T23:59:59.999Z', 'week')).toBe('2024-01-01'); // Sunday → previous Monday
    expect(bucketDate('2024-01-08T00:00:00.000Z', 'week')).toBe('2024-01-08');
    expect(bucketDate('2025-01-01T12:00:00.000Z', 'week')).toBe('2024-12-30'); // across the year boundary
    expect(bucketDate('2024-02-29T12:00:00.000Z', 'month')).toBe('2024-02-01');
    expect(bucketDate('2024-02-29T12:00:00.000Z', 'day')).toBe('2024-02-29');
  });
});
