import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P256_ORDER, sOf, tokenFixture } from './fixtures.ts';

describe('signEmbedToken: property', () => {
  it('emits only low-s signatures (s ≤ n/2), each of which verifies', async () => {
    // Prepare: half of raw ECDSA signatures are high-s, so hundreds of signings exercise the normalisation
    const f = await tokenFixture();
    const publicKey = createPublicKey({ key: { ...f.key.publicJwk }, format: 'jwk' });
    const lockedParams = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean()),
      { maxKeys: 4 },
    );

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(lockedParams, async (prm) => {
        const { token } = await f.sign({ lockedParams: prm });
        const dot = token.lastIndexOf('.');
        const signature = Buffer.from(token.slice(dot + 1), 'base64url');
        const s = sOf(token.slice(dot + 1));
        expect(signature).toHaveLength(64);
        expect(s > 0n && s <= P256_ORDER / 2n).toBe(true);
        const data = Buffer.from(token.slice(0, dot));
        expect(nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
