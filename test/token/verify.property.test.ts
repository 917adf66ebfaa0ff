import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmbedTokenInvalid } from '#errors';
import { b64url, tokenFixture } from './fixtures.ts';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random edit of the token text: replace, insert or delete a character, or cut the token short. */
const textMutation = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.constantFrom(...`${BASE64URL}.=+/ `) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.constantFrom(...`${BASE64URL}.`) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function applyText(token: string, m: { kind: string; at: number; char?: string }) {
  const at = m.at % (token.length + (m.kind === 'insert' ? 1 : 0));
  switch (m.kind) {
    case 'replace':
      return token.slice(0, at) + m.char + token.slice(at + 1);
    case 'insert':
      return token.slice(0, at) + m.char + token.slice(at);
    case 'delete':
      return token.slice(0, at) + token.slice(at + 1);
    default:
      return token.slice(0, at);
  }
}

describe('verifyEmbedToken: property', () => {
  it('never accepts a random textual mutation of a valid token', async () => {
    // Prepare
    const f = await tokenFixture();
    const { token } = await f.sign();
    await expect(f.verify(token)).resolves.toBeDefined();

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(fc.array(textMutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const mutated = mutations.reduce((t, m) => applyText(t, m), token);
        fc.pre(mutated !== token);
        const outcome = await f.verify(mutated).then(
          () => 'accepted',
          (error: unknown) => (error instanceof EmbedTokenInvalid ? 'refused' : error),
        );
        expect(outcome).toBe('refused');
      }),
      { numRuns: 1000 },
    );
  });

  it('never accepts a payload whose claims were changed under the original signature', async () => {
    // Prepare
    const f = await tokenFixture();
    const { token } = await f.sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const claimNames = Object.keys(claims);

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...claimNames, 'extra'), fc.jsonValue(), async (name, value) => {
        const changed = { ...claims, [name]: value };
        fc.pre(JSON.stringify(changed) !== JSON.stringify(claims));
        const outcome = await f.verify(`${header}.${b64url(changed)}.${signature}`).then(
          () => 'accepted',
          (error: unknown) => (error instanceof EmbedTokenInvalid ? 'refused' : error),
        );
        expect(outcome).toBe('refused');
      }),
      { numRuns: 300 },
    );
  });
});
