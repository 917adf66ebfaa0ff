import { generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLowS, signEs256 } from '#token/es256';
import { P256_ORDER } from './fixtures.ts';

/** A 64-byte r ‖ s signature with r = 1 and the given s. */
function signatureWithS(s: bigint): Buffer {
  return Buffer.from(`${'0'.repeat(63)}1${s.toString(16).padStart(64, '0')}`, 'hex');
}

describe('isLowS', () => {
  it.each([
    ['1', 1n, true],
    ['⌊n/2⌋, the largest low s', P256_ORDER / 2n, true],
    ['⌊n/2⌋ + 1, the smallest high s', P256_ORDER / 2n + 1n, false],
    ['⌊n/2⌋ − 2¹²⁸ (a middle byte lower)', P256_ORDER / 2n - 2n ** 128n, true],
    ['⌊n/2⌋ + 2¹²⁸ (a middle byte higher)', P256_ORDER / 2n + 2n ** 128n, false],
    ['n − 1', P256_ORDER - 1n, false],
  ])('classifies s = %s', (_name, s, low) => {
    expect(isLowS(signatureWithS(s))).toBe(low);
  });

  it.each([[63], [65], [0]])('refuses a signature of %i bytes', (length) => {
    expect(isLowS(Buffer.alloc(length, 1))).toBe(false);
  });
});

describe('signEs256', () => {
  it('returns 64-byte low-s signatures that node:crypto verifies', () => {
    // Prepare
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const inputs = Array.from({ length: 64 }, (_, i) => `eyJhbGciOiJFUzI1NiJ9.${i}`);

    // Act
    const signatures = inputs.map((input) => signEs256(input, privateKey));

    // Assess
    signatures.forEach((signature, i) => {
      expect(signature).toHaveLength(64);
      expect(isLowS(signature)).toBe(true);
      const data = Buffer.from(inputs[i]!);
      expect(nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    });
  });
});
