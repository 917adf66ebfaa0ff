import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateSigningKeyPair,
  importSigningKey,
  importVerificationKey,
  parsePrivateJwk,
  parsePublicJwk,
} from '#keys/key-material';
import type { PrivateJwk } from '#keys/types';

describe('key material', () => {
  it('generates a P-256 pair whose public JWK has no private member', async () => {
    // Act
    const { privateJwk, publicJwk } = await generateSigningKeyPair();

    // Assess
    expect(parsePrivateJwk(privateJwk)).toEqual(privateJwk);
    expect(parsePublicJwk(publicJwk)).toEqual(publicJwk);
    expect(Object.keys(publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y });
  });

  it('imports a signing key that signs what the imported verification key verifies', async () => {
    // Prepare
    const { privateJwk, publicJwk } = await generateSigningKeyPair();
    const data = Buffer.from('header.payload');

    // Act
    const signingKey = importSigningKey(privateJwk);
    const signature = nodeSign('sha256', data, { key: signingKey, dsaEncoding: 'ieee-p1363' });

    // Assess
    expect(signingKey.type).toBe('private');
    expect(signingKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(
      nodeVerify('sha256', data, { key: importVerificationKey(publicJwk), dsaEncoding: 'ieee-p1363' }, signature),
    ).toBe(true);
  });

  it("refuses a private JWK whose d is another key's", async () => {
    // Prepare: the public part of one key with the private scalar of another
    const one = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const swapped: PrivateJwk = { ...one.privateJwk, d: other.privateJwk.d };

    // Act + Assess
    expect(() => importSigningKey(swapped)).toThrow('Signing key does not match its public key');
  });

  it('refuses a private key on another curve', () => {
    // Prepare
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });

    // Act + Assess
    expect(() => importSigningKey(p384 as PrivateJwk)).toThrow('Signing key is not a P-256 key');
  });
});
