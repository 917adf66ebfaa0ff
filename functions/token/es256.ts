import { type KeyObject, sign } from 'node:crypto';

/**
 * ES256 signatures in one canonical form. ECDSA is malleable: when (r, s) verifies, so does
 * (r, n − s). The signer emits only low-s signatures (s ≤ n/2) and the verifier refuses the
 * others, so nobody can turn a token we issued into a second, different string that verifies.
 */

/** Order n of the P-256 group. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** ⌊n/2⌋ as 32 big-endian bytes: the largest low s (n is odd, so s ≤ n/2 ⇔ s ≤ ⌊n/2⌋). */
const P256_HALF_ORDER = Buffer.from((P256_ORDER >> 1n).toString(16).padStart(64, '0'), 'hex');

/** True when the `s` half of a 64-byte `r ‖ s` (IEEE P1363) signature is at most n/2. */
export function isLowS(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  // Byte by byte rather than Buffer.compare: no subarray to allocate, and the first byte nearly always decides.
  for (let i = 0; i < 32; i++) {
    const byte = signature[32 + i]!;
    const limit = P256_HALF_ORDER[i]!;
    if (byte !== limit) return byte < limit;
  }
  return true;
}

/** Signs a JWS signing input with ES256 and returns the 64-byte low-s `r ‖ s` signature. */
export function signEs256(signingInput: string, privateKey: KeyObject): Buffer {
  const signature = sign('sha256', Buffer.from(signingInput, 'latin1'), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  if (isLowS(signature)) return signature;
  const s = BigInt(`0x${signature.toString('hex', 32)}`);
  signature.write((P256_ORDER - s).toString(16).padStart(64, '0'), 32, 'hex');
  return signature;
}
