/**
 * `npm run bench:tokens [-- --json]`: embed-token sign and verify cost, in one run, on the same
 * tokens. Not a timed test: it reports medians (microseconds per operation) so the figures in
 * the README can be reproduced.
 *
 * - signUs: our `signEmbedToken` (ES256).
 * - verifyUs: our full verify: structure, header policy, key lookup (warm cache), signature,
 *   claims, identity binding, then `resolveParameters`.
 * - rawVerifyUs: `node:crypto` verify of the same signatures with the same key (the floor).
 * - jsonwebtokenVerifyUs: `jsonwebtoken.verify` of the same tokens (ES256, issuer and audience),
 *   given the public key as a PEM string, as integrations pass it; `jsonwebtokenKeyObjectVerifyUs`
 *   is its best case with a pre-parsed KeyObject.
 * - verifyOnlyUs / paramsOnlyUs: the two halves of verifyUs.
 * Also, to document the algorithm and library choice: the raw verify and sign of Ed25519, and
 * jose's WebCrypto `jwtVerify` of the same ES256 tokens.
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { generateSigningKeyPair, importSigningKey, importVerificationKey } from '../functions/keys/key-material.ts';
import { createPublicKeyDirectory } from '../functions/keys/public-key-directory.ts';
import type { PublishedKeySet, SigningKey } from '../functions/keys/types.ts';
import type { ParameterDefinition, ParameterMode } from '../functions/token/param-types.ts';
import { resolveParameters } from '../functions/token/params.ts';
import { signEmbedToken } from '../functions/token/sign.ts';
import { verifyEmbedToken } from '../functions/token/verify.ts';

const TOKENS = 256;
const WARMUP = 2_000;
const ROUNDS = 5;
const OPS_PER_ROUND = 2_000;

const issuer = 'https://embed.example.com';
const audience = 'secure-embed';
const tenantId = 'bench-tenant';
const viewer = { sub: '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', tenantId };
const definitions: ParameterDefinition[] = [
  { name: 'region', type: 'string', allowedValues: ['EU', 'US', 'APAC'] },
  { name: 'period', type: 'dateRange', min: '2020-01-01', max: '2030-12-31' },
  { name: 'top', type: 'number', min: 1, max: 100, default: 10 },
];
const modes: Record<string, ParameterMode> = { region: 'locked', period: 'editable', top: 'editable' };
const requestParams = { period: { from: '2024-01-01', to: '2024-03-31' } };

type Op = () => unknown;

/** Median µs per op over interleaved rounds, so background noise hits every contender alike. */
async function measure(ops: Record<string, Op>): Promise<Record<string, number>> {
  for (const op of Object.values(ops)) for (let i = 0; i < WARMUP; i++) await op();
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, op] of Object.entries(ops)) {
      const bucket = samples[name]!;
      for (let i = 0; i < OPS_PER_ROUND; i++) {
        const start = process.hrtime.bigint();
        await op();
        bucket.push(Number(process.hrtime.bigint() - start) / 1000);
      }
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => {
      values.sort((a, b) => a - b);
      return [name, Math.round(values[Math.floor(values.length / 2)]! * 10) / 10];
    }),
  );
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const now = Date.now();
  const { privateJwk, publicJwk } = await generateSigningKeyPair();
  const kid = `${tenantId}.1`;
  const signingKey: SigningKey = { kid, alg: 'ES256', tenantId, privateKey: await importSigningKey(privateJwk) };
  const keySet: PublishedKeySet = {
    tenantId,
    keys: [{ kid, alg: 'ES256', jwk: publicJwk, status: 'current', createdAt: new Date(now).toISOString() }],
    revision: 1,
    updatedAt: new Date(now).toISOString(),
  };
  const keys = createPublicKeyDirectory({ source: { getKeySet: async () => keySet }, now: () => now });
  const publicKey: KeyObject = importVerificationKey(publicJwk);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKey = createPrivateKey({ key: { ...privateJwk }, format: 'jwk' });
  const joseKey = await importJWK({ ...publicJwk }, 'ES256');

  const sign = () =>
    signEmbedToken({
      signingKey,
      issuer,
      audience,
      viewer,
      embedId: 'emb_sales',
      resource: { type: 'dashboard', id: 'dash_sales' },
      lockedParams: { region: 'EU', top: 20 },
      now,
    });
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) tokens.push((await sign()).token);
  const raw = tokens.map((token) => {
    const dot = token.lastIndexOf('.');
    return { data: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') };
  });

  const ed = generateKeyPairSync('ed25519');
  const edData = raw.map(({ data }) => ({ data, signature: nodeSign(null, data, ed.privateKey) }));

  let i = 0;
  const next = () => {
    i = (i + 1) % TOKENS;
    return i;
  };
  const options = { keys, issuer, audience, now: () => now };
  const figures = await measure({
    verifyUs: async () => {
      const verified = await verifyEmbedToken(tokens[next()], viewer, options);
      return resolveParameters({ definitions, modes, tokenParams: verified.params, requestParams });
    },
    verifyOnlyUs: () => verifyEmbedToken(tokens[next()], viewer, options),
    paramsOnlyUs: () =>
      resolveParameters({ definitions, modes, tokenParams: { region: 'EU', top: 20 }, requestParams }),
    rawVerifyUs: () => {
      const { data, signature } = raw[next()]!;
      if (!nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('raw');
    },
    // As integrations call it: the public key as a PEM string (jsonwebtoken parses it per call).
    jsonwebtokenVerifyUs: () =>
      jsonwebtoken.verify(tokens[next()]!, publicPem, {
        algorithms: ['ES256'],
        issuer,
        audience,
        clockTimestamp: now / 1000,
      }),
    // Its best case, with a pre-parsed KeyObject, for comparison.
    jsonwebtokenKeyObjectVerifyUs: () =>
      jsonwebtoken.verify(tokens[next()]!, publicKey, {
        algorithms: ['ES256'],
        issuer,
        audience,
        clockTimestamp: now / 1000,
      }),
    joseVerifyUs: () =>
      jwtVerify(tokens[next()]!, joseKey, {
        algorithms: ['ES256'],
        typ: 'embed+jwt',
        issuer,
        audience,
        maxTokenAge: 600,
        clockTolerance: 30,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      }),
    rawVerifyEd25519Us: () => {
      const { data, signature } = edData[next()]!;
      if (!nodeVerify(null, data, ed.publicKey, signature)) throw new Error('raw ed25519');
    },
    rawSignEs256Us: () => nodeSign('sha256', raw[next()]!.data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
    rawSignEd25519Us: () => nodeSign(null, raw[next()]!.data, ed.privateKey),
    // Last in each round: signing allocates the most, and its garbage should not be collected on others' time.
    signUs: sign,
  });

  const result = {
    alg: 'ES256',
    node: process.version,
    ...figures,
    verifyOverRaw: Math.round((figures.verifyUs! / figures.rawVerifyUs!) * 100) / 100,
  };
  if (!json) {
    for (const [name, value] of Object.entries(result)) console.log(`${name.padEnd(22)} ${value}`);
    return;
  }
  console.log(JSON.stringify(result));
}

await main();
