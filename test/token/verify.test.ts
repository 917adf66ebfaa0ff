import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  b64url,
  forge,
  highSTwinOf,
  keySetOf,
  makeKey,
  NOW,
  NOW_S,
  P256_ORDER,
  sOf,
  tokenFixture,
  uniqueTenantId,
} from './fixtures.ts';

/** Asserts the exact error code (and, when given, HTTP status and details). */
async function expectCode(promise: Promise<unknown>, code: string, extra: Record<string, unknown> = {}) {
  await expect(promise).rejects.toMatchObject({ code, ...extra });
}

describe('verifyEmbedToken: a valid token', () => {
  it('returns the verified claims bound to the caller', async () => {
    // Prepare
    const f = await tokenFixture();
    const { token, jti, expiresAt } = await f.sign();

    // Act
    const verified = await f.verify(token);

    // Assess
    expect(verified).toEqual({
      kid: f.key.kid,
      keyStatus: 'current',
      jti,
      sub: f.viewer.sub,
      tenantId: f.tenantId,
      embedId: 'emb_sales',
      resource: { type: 'dashboard', id: 'dash_sales' },
      params: { region: 'EU' },
      issuedAt: NOW_S,
      notBefore: NOW_S,
      expiresAt,
    });
  });

  it('reads the key set once and imports each key once for many verifications', async () => {
    // Prepare
    const f = await tokenFixture();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => f.sign()));

    // Act
    for (const { token } of tokens) await f.verify(token);
    const first = await f.keys.resolve(f.tenantId, f.key.kid);
    const second = await f.keys.resolve(f.tenantId, f.key.kid);

    // Assess
    expect(f.source.reads).toBe(1);
    expect(second.key).toBe(first.key);
  });
});

describe('verifyEmbedToken: structure, checked before anything is decoded', () => {
  it('refuses a token over 8 KB without looking up a key', async () => {
    const f = await tokenFixture();
    const token = f.forge({}, { pad: 'x'.repeat(8 * 1024) });
    await expectCode(f.verify(token), 'EMBED_TOKEN_TOO_LARGE', { status: 401 });
    expect(f.source.reads).toBe(0);
  });

  it('refuses anything larger than the cap even when it is not a JWS at all', async () => {
    const f = await tokenFixture();
    await expectCode(f.verify('a'.repeat(8 * 1024 + 1)), 'EMBED_TOKEN_TOO_LARGE');
  });

  it.each([
    [
      'a JWE (5 segments)',
      (t: string) => `${t}.${b64url('iv')}.${b64url('tag')}`.replace(/^[^.]+/, b64url({ alg: 'dir', enc: 'A256GCM' })),
    ],
    ['4 segments', (t: string) => `${t}.extra`],
    ['2 segments', (t: string) => t.split('.').slice(0, 2).join('.')],
    [
      'the JSON serialization',
      (t: string) => {
        const [protectedHeader, payload, signature] = t.split('.');
        return JSON.stringify({ protected: protectedHeader, payload, signature });
      },
    ],
    ['a non-base64url header', (t: string) => `${t.split('.')[0]}=.${t.split('.').slice(1).join('.')}`],
    ['a header that is not JSON', (t: string) => `${b64url('not json')}.${t.split('.').slice(1).join('.')}`],
    ['a header that is a JSON array', (t: string) => `${b64url([1])}.${t.split('.').slice(1).join('.')}`],
  ])('refuses %s as malformed', async (_name, mutate) => {
    const f = await tokenFixture();
    const { token } = await f.sign();
    await expectCode(f.verify(mutate(token)), 'EMBED_TOKEN_MALFORMED', { status: 401 });
  });

  it.each([[undefined], [null], [42], [{ token: 'x' }]])('refuses a non-string token (%s)', async (value) => {
    const f = await tokenFixture();
    await expectCode(f.verify(value), 'EMBED_TOKEN_MALFORMED');
  });
});

describe('verifyEmbedToken: algorithms', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s with an empty signature', async (alg) => {
    const f = await tokenFixture();
    const token = `${b64url(f.header({ alg }))}.${b64url(f.claims())}.`;
    await expectCode(f.verify(token), 'EMBED_TOKEN_ALG_NOT_ALLOWED', { status: 401 });
    expect(f.source.reads).toBe(0);
  });

  it.each([
    ['PEM', (f: Awaited<ReturnType<typeof tokenFixture>>) => publicKeyOf(f).export({ type: 'spki', format: 'pem' })],
    ['DER', (f: Awaited<ReturnType<typeof tokenFixture>>) => publicKeyOf(f).export({ type: 'spki', format: 'der' })],
    ['JWK', (f: Awaited<ReturnType<typeof tokenFixture>>) => Buffer.from(JSON.stringify(f.key.publicJwk))],
  ])('refuses HS256 signed with the tenant public key as %s bytes', async (_name, secretOf) => {
    // Prepare: the classic key-confusion forgery
    const f = await tokenFixture();
    const input = `${b64url(f.header({ alg: 'HS256' }))}.${b64url(f.claims())}`;
    const mac = createHmac('sha256', secretOf(f)).update(input).digest('base64url');

    // Act + Assess
    await expectCode(f.verify(`${input}.${mac}`), 'EMBED_TOKEN_ALG_NOT_ALLOWED');
  });

  it.each(['ES384', 'ES512', 'EdDSA', 'RS256', 'PS256', 'HS512', 'es256', ''])('refuses alg %j', async (alg) => {
    const f = await tokenFixture();
    await expectCode(f.verify(f.forge({ alg })), 'EMBED_TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses a missing alg', async () => {
    const f = await tokenFixture();
    const { alg: _alg, ...header } = f.header();
    await expectCode(f.verify(forge(header, f.claims(), f.key.privateKeyObject)), 'EMBED_TOKEN_ALG_NOT_ALLOWED');
  });

  it.each(['id', 'access'])('refuses a Cognito %s token presented as an embed token', async (kind) => {
    // Prepare: a real RS256 token shaped like Cognito's, for the same user and tenant
    const f = await tokenFixture();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const header = { kid: 'Vw3jh/qyZ0Xh6H7v0Y+EXAMPLEkid=', alg: 'RS256' };
    const claims = {
      sub: f.viewer.sub,
      iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE',
      token_use: kind,
      ...(kind === 'id'
        ? { aud: '7example', 'custom:tenant_id': f.tenantId }
        : { client_id: '7example', scope: 'aws.cognito.signin.user.admin' }),
      auth_time: NOW_S - 60,
      iat: NOW_S - 60,
      exp: NOW_S + 3600,
      jti: randomUUID(),
    };
    const input = `${b64url(header)}.${b64url(claims)}`;
    const token = `${input}.${nodeSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;

    // Act + Assess
    await expectCode(f.verify(token), 'EMBED_TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses Cognito-shaped claims signed with the tenant key but without the embed typ', async () => {
    const f = await tokenFixture();
    const token = forge({ alg: 'ES256', kid: f.key.kid }, { ...f.claims(), token_use: 'id' }, f.key.privateKeyObject);
    await expectCode(f.verify(token), 'EMBED_TOKEN_HEADER_INVALID');
  });
});

describe('verifyEmbedToken: header members', () => {
  it('never honours an embedded jwk (the attacker signs with the key it embeds)', async () => {
    // Prepare
    const f = await tokenFixture();
    const attacker = await makeKey(f.tenantId);
    const token = forge(f.header({ jwk: attacker.publicJwk }), f.claims(), attacker.privateKeyObject);

    // Act + Assess
    await expectCode(f.verify(token), 'EMBED_TOKEN_HEADER_INVALID', { status: 401 });
    expect(f.source.reads).toBe(0);
  });

  it.each([
    ['jku', { jku: 'https://attacker.example/jwks.json' }],
    ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
    ['x5c', { x5c: ['MIIBszCCAVmgAwIBAgIU'] }],
    ['x5t', { x5t: 'abc' }],
    ['unknown crit', { crit: ['urn:example:unknown'], 'urn:example:unknown': true }],
    ['crit naming a registered claim', { crit: ['exp'] }],
    ['b64 false', { b64: false, crit: ['b64'] }],
    ['cty', { cty: 'JWT' }],
  ])('refuses a %s header even with a valid signature', async (_name, extra) => {
    const f = await tokenFixture();
    await expectCode(f.verify(f.forge(extra)), 'EMBED_TOKEN_HEADER_INVALID');
  });

  it.each([['JWT'], ['EMBED+JWT'], ['application/embed+jwt'], [undefined], [1]])('refuses typ %j', async (typ) => {
    const f = await tokenFixture();
    await expectCode(f.verify(f.forge({ typ })), 'EMBED_TOKEN_HEADER_INVALID');
  });
});

describe('verifyEmbedToken: kid', () => {
  it.each([
    [''],
    ['../../dev/null'],
    ['|sleep 10'],
    ["' OR '1'='1"],
    ['1; DROP TABLE keys; --'],
    ["acme.1' OR 1=1 --"],
    ['acme.01'],
    ['acme.0'],
    ['acme'],
    ['ACME.1'],
    ['acme.1/../../x'],
    [' acme.1'],
    [1],
    [null],
    [undefined],
  ])('refuses kid %j without any lookup', async (kid) => {
    const f = await tokenFixture();
    const header = kid === undefined ? { alg: 'ES256', typ: 'embed+jwt' } : f.header({ kid });
    await expectCode(f.verify(forge(header, f.claims(), f.key.privateKeyObject)), 'EMBED_TOKEN_KEY_UNKNOWN', {
      status: 401,
    });
    expect(f.source.reads).toBe(0);
  });

  it('refuses a well-formed kid the tenant does not have', async () => {
    const f = await tokenFixture();
    await expectCode(f.verify(f.forge({ kid: `${f.tenantId}.7` })), 'EMBED_TOKEN_KEY_UNKNOWN');
  });
});

describe('verifyEmbedToken: signature', () => {
  it('refuses a tampered payload carrying the original signature', async () => {
    // Prepare
    const f = await tokenFixture();
    const { token } = await f.sign();
    const [header, , signature] = token.split('.');
    const tampered = { ...f.claims(), prm: { region: 'US' } };

    // Act + Assess
    await expectCode(f.verify(`${header}.${b64url(tampered)}.${signature}`), 'EMBED_TOKEN_SIGNATURE_INVALID');
  });

  it.each([
    ['truncated', (s: string) => s.slice(0, -4)],
    ['empty (null signature)', () => ''],
    ['all zero bytes', () => Buffer.alloc(64).toString('base64url')],
    ['one bit flipped', (s: string) => flipFirstBit(s)],
    ['non-canonical last character', (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`],
    ['DER encoded', (s: string) => derOf(Buffer.from(s, 'base64url')).toString('base64url')],
    ['padded', (s: string) => `${s}==`],
  ])('refuses a %s signature', async (_name, mutate) => {
    const f = await tokenFixture();
    const { token } = await f.sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    await expectCode(f.verify(`${header}.${payload}.${mutate(signature)}`), 'EMBED_TOKEN_SIGNATURE_INVALID');
  });

  it('refuses the high-s twin (r, n − s) of a valid signature before any key lookup, though ECDSA accepts it', async () => {
    // Prepare
    const f = await tokenFixture();
    const { token } = await f.sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const twin = highSTwinOf(signature);
    const data = Buffer.from(`${header}.${payload}`);
    const key = { key: publicKeyOf(f), dsaEncoding: 'ieee-p1363' as const };
    expect(sOf(twin)).toBeGreaterThan(P256_ORDER / 2n);
    expect(nodeVerify('sha256', data, key, Buffer.from(twin, 'base64url'))).toBe(true);

    // Act
    const refused = f.verify(`${header}.${payload}.${twin}`);

    // Assess
    await expectCode(refused, 'EMBED_TOKEN_SIGNATURE_INVALID', { status: 401 });
    expect(f.source.reads).toBe(0);
    await expect(f.verify(token)).resolves.toMatchObject({ sub: f.viewer.sub });
  });

  it("refuses a token signed with another key under the tenant's kid", async () => {
    const f = await tokenFixture();
    const other = await makeKey(f.tenantId);
    await expectCode(f.verify(forge(f.header(), f.claims(), other.privateKeyObject)), 'EMBED_TOKEN_SIGNATURE_INVALID');
  });
});

describe('verifyEmbedToken: duplicate member names', () => {
  type Fixture = Awaited<ReturnType<typeof tokenFixture>>;

  /** The JSON text of `value` with `members` written in front of its own. */
  const prefixed = (value: object, members: string) => `{${members},${JSON.stringify(value).slice(1)}`;

  /** The claims' JSON text with one exact piece replaced. */
  const claimsText = (f: Fixture, from: string, to: string) => {
    const text = JSON.stringify(f.claims());
    expect(text).toContain(from);
    return text.replace(from, to);
  };

  it.each([
    ['kid twice with the same value', (f: Fixture) => prefixed(f.header(), `"kid":"${f.key.kid}"`)],
    ['alg none before alg ES256', (f: Fixture) => prefixed(f.header(), '"alg":"none"')],
    ['typ, once written with \\u escapes', (f: Fixture) => prefixed(f.header(), '"\\u0074\\u0079\\u0070":"JWT"')],
  ])('refuses a header with %s before any key lookup', async (_name, headerText) => {
    // Prepare
    const f = await tokenFixture();
    const text = headerText(f);

    // Act
    const refused = f.verify(forge(text, f.claims(), f.key.privateKeyObject));

    // Assess: refused, though the last-wins reading of the same header is acceptable
    await expectCode(refused, 'EMBED_TOKEN_MALFORMED', {
      status: 401,
      message: 'The embed token header repeats a member name.',
    });
    expect(f.source.reads).toBe(0);
    await expect(f.verify(forge(JSON.parse(text), f.claims(), f.key.privateKeyObject))).resolves.toBeDefined();
  });

  it.each([
    ['sub at the top level', (f: Fixture) => prefixed(f.claims(), '"sub":"someone-else"')],
    ['sub at the top level, once escaped', (f: Fixture) => prefixed(f.claims(), '"s\\u0075b":"someone-else"')],
    [
      'a parameter name inside prm',
      (f: Fixture) => claimsText(f, '"prm":{"region":"EU"}', '"prm":{"region":"US","region":"EU"}'),
    ],
    [
      'a parameter name inside prm, once escaped',
      (f: Fixture) => claimsText(f, '"prm":{"region":"EU"}', '"prm":{"region":"US","\\u0072egion":"EU"}'),
    ],
    [
      'a name deep inside a prm value',
      (f: Fixture) => claimsText(f, '"prm":{"region":"EU"}', '"prm":{"region":"EU","period":[{"to":"x","to":"y"}]}'),
    ],
    [
      'id inside rsc',
      (f: Fixture) =>
        claimsText(
          f,
          '"rsc":{"type":"dashboard","id":"dash_sales"}',
          '"rsc":{"type":"dashboard","id":"dash_other","id":"dash_sales"}',
        ),
    ],
  ])('refuses a payload repeating %s', async (_name, payloadText) => {
    // Prepare
    const f = await tokenFixture();
    const text = payloadText(f);

    // Act
    const refused = f.verify(forge(f.header(), text, f.key.privateKeyObject));

    // Assess
    await expectCode(refused, 'EMBED_TOKEN_MALFORMED', {
      status: 401,
      message: 'The embed token payload repeats a member name.',
    });
  });

  it('refuses a payload the last-wins reading of which would be accepted', async () => {
    // Prepare: an earlier sub of another viewer, hidden by the caller's own
    const f = await tokenFixture();
    const text = prefixed(f.claims(), `"sub":"${randomUUID()}"`);

    // Act + Assess
    await expectCode(f.verify(forge(f.header(), text, f.key.privateKeyObject)), 'EMBED_TOKEN_MALFORMED');
    await expect(f.verify(forge(f.header(), JSON.parse(text), f.key.privateKeyObject))).resolves.toMatchObject({
      sub: f.viewer.sub,
    });
  });

  it('accepts names and values full of colons, quotes, backslashes and escapes', async () => {
    // Prepare
    const f = await tokenFixture();
    const lockedParams = { 'a:"b\\': 'c:\\"d"', '\\u0061': 'é:😀', a: ':', 'x\\': { '"': ['\\', ':'] } };
    const { token } = await f.sign({ lockedParams });

    // Act + Assess
    await expect(f.verify(token)).resolves.toMatchObject({ params: lockedParams });
  });
});

describe('verifyEmbedToken: claims', () => {
  it.each([
    ['exp missing', { exp: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'exp'],
    ['exp a string', { exp: String(NOW_S + 60) }, 'EMBED_TOKEN_CLAIM_INVALID', 'exp'],
    ['exp fractional', { exp: NOW_S + 60.5 }, 'EMBED_TOKEN_CLAIM_INVALID', 'exp'],
    ['iat missing', { iat: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'iat'],
    ['iat a string', { iat: String(NOW_S) }, 'EMBED_TOKEN_CLAIM_INVALID', 'iat'],
    ['iat in the future', { iat: NOW_S + 31, nbf: NOW_S }, 'EMBED_TOKEN_CLAIM_INVALID', 'iat'],
    ['nbf in the future', { nbf: NOW_S + 31 }, 'EMBED_TOKEN_CLAIM_INVALID', 'nbf'],
    ['nbf a string', { nbf: String(NOW_S) }, 'EMBED_TOKEN_CLAIM_INVALID', 'nbf'],
    ['a lifetime over the cap', { iat: NOW_S - 1, exp: NOW_S + 600 }, 'EMBED_TOKEN_CLAIM_INVALID', 'exp'],
    ['exp before iat', { iat: NOW_S, exp: NOW_S - 1 + 0 }, 'EMBED_TOKEN_EXPIRED', undefined],
    ['a wrong iss', { iss: 'https://attacker.example' }, 'EMBED_TOKEN_CLAIM_INVALID', 'iss'],
    ['iss missing', { iss: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'iss'],
    ['a wrong aud', { aud: 'another-app' }, 'EMBED_TOKEN_CLAIM_INVALID', 'aud'],
    ['aud as an array', { aud: ['secure-embed-test'] }, 'EMBED_TOKEN_CLAIM_INVALID', 'aud'],
    ['jti missing', { jti: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'jti'],
    ['jti under 128 bits', { jti: 'a'.repeat(21) }, 'EMBED_TOKEN_CLAIM_INVALID', 'jti'],
    ['sub missing', { sub: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'sub'],
    ['sub an array', { sub: ['a'] }, 'EMBED_TOKEN_CLAIM_INVALID', 'sub'],
    ['sub null', { sub: null }, 'EMBED_TOKEN_CLAIM_INVALID', 'sub'],
    ['sub a number', { sub: 42 }, 'EMBED_TOKEN_CLAIM_INVALID', 'sub'],
    ['sub empty', { sub: '' }, 'EMBED_TOKEN_CLAIM_INVALID', 'sub'],
    ['tid missing', { tid: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'tid'],
    ['tid not a tenant id', { tid: 'Acme Corp' }, 'EMBED_TOKEN_CLAIM_INVALID', 'tid'],
    ['eid missing', { eid: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'eid'],
    ['eid a number', { eid: 7 }, 'EMBED_TOKEN_CLAIM_INVALID', 'eid'],
    ['rsc missing', { rsc: undefined }, 'EMBED_TOKEN_CLAIM_INVALID', 'rsc'],
    ['rsc of another type', { rsc: { type: 'dataset', id: 'd1' } }, 'EMBED_TOKEN_CLAIM_INVALID', 'rsc'],
    ['rsc with extra members', { rsc: { type: 'chart', id: 'c1', all: true } }, 'EMBED_TOKEN_CLAIM_INVALID', 'rsc'],
    ['rsc a string', { rsc: 'dashboard:d1' }, 'EMBED_TOKEN_CLAIM_INVALID', 'rsc'],
    ['prm an array', { prm: [['region', 'EU']] }, 'EMBED_TOKEN_CLAIM_INVALID', 'prm'],
  ])('refuses %s', async (_name, overrides, code, claim) => {
    const f = await tokenFixture();
    const payload: Record<string, unknown> = f.claims(overrides);
    for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete payload[k];
    const token = forge(f.header(), payload, f.key.privateKeyObject);
    await expectCode(f.verify(token), code, claim ? { status: 401, details: { claim } } : { status: 401 });
  });

  it('refuses a token whose exp equals now', async () => {
    const f = await tokenFixture();
    await expectCode(f.verify(f.forge({}, { exp: NOW_S })), 'EMBED_TOKEN_EXPIRED', { status: 401 });
  });

  it('accepts the same token one second before its exp', async () => {
    const f = await tokenFixture();
    await expect(f.verify(f.forge({}, { exp: NOW_S + 1 }))).resolves.toMatchObject({ expiresAt: NOW_S + 1 });
  });

  it('refuses a token issued longer ago than the maximum token age', async () => {
    const f = await tokenFixture();
    const { token } = await f.sign({ lifetimeSeconds: 600 });
    await expectCode(f.verify(token, f.viewer, NOW + 600_000), 'EMBED_TOKEN_EXPIRED');
  });

  it('tolerates up to 30 s of clock skew on iat and nbf', async () => {
    const f = await tokenFixture();
    const token = f.forge({}, { iat: NOW_S + 30, nbf: NOW_S + 30, exp: NOW_S + 300 });
    await expect(f.verify(token)).resolves.toMatchObject({ issuedAt: NOW_S + 30 });
  });

  it("refuses a tid that is not the kid's tenant, even when it is the caller's", async () => {
    // Prepare: tenant B's key signs a token claiming tenant A
    const f = await tokenFixture();
    const otherTenant = uniqueTenantId();
    const otherKey = await makeKey(otherTenant);
    f.sets.set(otherTenant, keySetOf(otherTenant, [[otherKey, 'current']]));
    const token = forge(f.header({ kid: otherKey.kid }), f.claims(), otherKey.privateKeyObject);

    // Act + Assess
    await expectCode(f.verify(token), 'EMBED_TOKEN_CLAIM_INVALID', { details: { claim: 'tid' } });
  });
});

describe('verifyEmbedToken: identity binding', () => {
  it('refuses a valid token presented by another viewer of the same tenant with 403', async () => {
    const f = await tokenFixture();
    const { token } = await f.sign();
    await expectCode(f.verify(token, { sub: randomUUID(), tenantId: f.tenantId }), 'EMBED_TOKEN_IDENTITY_MISMATCH', {
      status: 403,
    });
  });

  it('refuses a valid token of another tenant with 403', async () => {
    // Prepare: a genuine token of tenant B for its viewer, presented by a tenant A caller with the same sub
    const f = await tokenFixture();
    const otherTenant = uniqueTenantId();
    const otherKey = await makeKey(otherTenant);
    f.sets.set(otherTenant, keySetOf(otherTenant, [[otherKey, 'current']]));
    const token = forge(f.header({ kid: otherKey.kid }), f.claims({ tid: otherTenant }), otherKey.privateKeyObject);

    // Act + Assess
    await expectCode(f.verify(token, f.viewer), 'EMBED_TOKEN_IDENTITY_MISMATCH', { status: 403 });
  });

  it.each([
    ['with a trailing space', (sub: string) => `${sub} `],
    ['upper-cased', (sub: string) => sub.toUpperCase()],
    ['empty', () => ''],
  ])('refuses a caller sub that is the token sub %s', async (_name, change) => {
    const f = await tokenFixture();
    const { token } = await f.sign();
    await expectCode(
      f.verify(token, { sub: change(f.viewer.sub), tenantId: f.tenantId }),
      'EMBED_TOKEN_IDENTITY_MISMATCH',
    );
  });

  it('refuses a token whose sub has a trailing space as invalid, whoever presents it', async () => {
    const f = await tokenFixture();
    const sub = `${f.viewer.sub} `;
    await expectCode(f.verify(f.forge({}, { sub }), { sub, tenantId: f.tenantId }), 'EMBED_TOKEN_CLAIM_INVALID', {
      details: { claim: 'sub' },
    });
  });

  it('returns caller-safe error bodies', async () => {
    const f = await tokenFixture();
    const { token } = await f.sign();
    const error = await f.verify(token, { sub: 'someone-else', tenantId: f.tenantId }).catch((e: unknown) => e);
    expect((error as { toJSON(): unknown }).toJSON()).toEqual({
      code: 'EMBED_TOKEN_IDENTITY_MISMATCH',
      message: 'This embed was not issued to you.',
    });
  });
});

describe('verifyEmbedToken: key status', () => {
  it('accepts current, previous and pending keys and refuses a retired one', async () => {
    // Prepare
    const f = await tokenFixture();
    const retired = await makeKey(f.tenantId, 2);
    const previous = await makeKey(f.tenantId, 3);
    const current = await makeKey(f.tenantId, 4);
    const pending = await makeKey(f.tenantId, 5);
    f.sets.set(
      f.tenantId,
      keySetOf(f.tenantId, [
        [retired, 'retired'],
        [previous, 'previous'],
        [current, 'current'],
        [pending, 'pending'],
      ]),
    );
    const tokenOf = (key: typeof current) => forge(f.header({ kid: key.kid }), f.claims(), key.privateKeyObject);

    // Act + Assess
    await expect(f.verify(tokenOf(current))).resolves.toMatchObject({ keyStatus: 'current' });
    await expect(f.verify(tokenOf(previous))).resolves.toMatchObject({ keyStatus: 'previous' });
    await expect(f.verify(tokenOf(pending))).resolves.toMatchObject({ keyStatus: 'pending' });
    await expectCode(f.verify(tokenOf(retired)), 'EMBED_TOKEN_KEY_RETIRED', { status: 401 });
  });
});

function publicKeyOf(f: Awaited<ReturnType<typeof tokenFixture>>) {
  return createPublicKey({ key: { ...f.key.publicJwk }, format: 'jwk' });
}

function flipFirstBit(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64url');
}

/** The DER (ASN.1) form of a raw r||s ECDSA signature. */
function derOf(raw: Buffer): Buffer {
  const integer = (bytes: Buffer) => {
    let b = bytes;
    while (b.length > 1 && b[0] === 0 && (b[1] ?? 0) < 0x80) b = b.subarray(1);
    if ((b[0] ?? 0) >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
