import { existsSync } from 'node:fs';
import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  InvalidPasswordException,
  NotAuthorizedException,
} from '@aws-sdk/client-cognito-identity-provider';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrapUserPool,
  ensureUser,
  type LocalCognito,
  type LocalUserPool,
  startCognitoLocal,
} from '../../local/cognito.ts';

const PASSWORD = 'Passw0rd!local';

let cognito: LocalCognito;
let pool: LocalUserPool;
let aliceSub: string;

beforeAll(async () => {
  cognito = await startCognitoLocal();
  pool = await bootstrapUserPool(cognito);
  aliceSub = await ensureUser(cognito, pool, {
    username: 'alice',
    password: PASSWORD,
    tenantId: 'acme',
    region: 'EU',
    email: 'alice@acme.example',
    groups: ['tenant-admins', 'embed-signers'],
  });
});

afterAll(async () => {
  await cognito?.stop();
});

describe('cognito-local bootstrap', () => {
  it('listens on 127.0.0.1 and publishes the pool JWKS under the issuer', async () => {
    expect(cognito.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(pool.issuer).toBe(`${cognito.endpoint}/${pool.userPoolId}`);
    expect(pool.jwksUrl).toBe(`${pool.issuer}/.well-known/jwks.json`);
    const jwks = (await (await fetch(pool.jwksUrl)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: 'CognitoLocal' })]);
  });

  it('is idempotent: a second bootstrap finds the same pool and client and keeps group members', async () => {
    const again = await bootstrapUserPool(cognito);
    const groups = await cognito.client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: pool.userPoolId, Username: 'alice' }),
    );
    expect([again.userPoolId, again.clientId]).toEqual([pool.userPoolId, pool.clientId]);
    expect(groups.Groups?.map((g) => g.GroupName).sort()).toEqual(['embed-signers', 'tenant-admins']);
  });

  it('creates a confirmed user with its custom attributes; ensureUser again updates it in place', async () => {
    const sub = await ensureUser(cognito, pool, {
      username: 'alice',
      password: PASSWORD,
      tenantId: 'acme',
      region: 'US',
      groups: ['tenant-admins'],
    });
    const user = await cognito.client.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: 'alice' }));
    const attributes = Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value]));
    expect(sub).toBe(aliceSub);
    expect(user.UserStatus).toBe('CONFIRMED');
    expect(attributes).toMatchObject({ sub: aliceSub, 'custom:tenant_id': 'acme', 'custom:region': 'US' });
    // Put the region back for the token test below.
    await ensureUser(cognito, pool, { username: 'alice', password: PASSWORD, tenantId: 'acme', region: 'EU' });
  });

  it('refuses to move an existing user to another tenant (custom:tenant_id is immutable)', async () => {
    await expect(
      ensureUser(cognito, pool, { username: 'alice', password: PASSWORD, tenantId: 'globex' }),
    ).rejects.toThrow('User alice already exists in tenant acme, not globex');
  });
});

describe('cognito-local login', () => {
  it('issues an RS256 ID token that verifies against the pool JWKS with the claims the product reads', async () => {
    // Act
    const tokens = await pool.login('alice', PASSWORD);
    const { payload, protectedHeader } = await jwtVerify(tokens.idToken, createRemoteJWKSet(new URL(pool.jwksUrl)), {
      issuer: pool.issuer,
      audience: pool.clientId,
      algorithms: ['RS256'],
    });
    // Assess
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' });
    expect(payload).toEqual({
      sub: aliceSub,
      aud: pool.clientId,
      iss: pool.issuer,
      token_use: 'id',
      'cognito:username': 'alice',
      'cognito:groups': ['embed-signers', 'tenant-admins'],
      'custom:tenant_id': 'acme',
      'custom:region': 'EU',
      email: 'alice@acme.example',
      email_verified: true,
      auth_time: expect.any(Number),
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      event_id: expect.any(String),
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(24 * 3600);
  });

  it('issues an access token with token_use "access", client_id and no aud', async () => {
    const tokens = await pool.login('alice', PASSWORD);
    const access = decodeJwt(tokens.accessToken);
    expect(decodeProtectedHeader(tokens.accessToken).kid).toBe('CognitoLocal');
    expect(access).toMatchObject({ token_use: 'access', client_id: pool.clientId, sub: aliceSub, iss: pool.issuer });
    expect(access.aud).toBeUndefined();
  });

  it('rejects a wrong password (cognito-local: InvalidPasswordException) and an unknown user (NotAuthorizedException)', async () => {
    await expect(pool.login('alice', 'wrong-password')).rejects.toBeInstanceOf(InvalidPasswordException);
    await expect(pool.login('nobody', PASSWORD)).rejects.toBeInstanceOf(NotAuthorizedException);
  });
});

describe('cognito-local process', () => {
  it('stops the child process and removes its temporary data directory', async () => {
    const extra = await startCognitoLocal();
    const { dataDir, endpoint } = extra;
    expect(existsSync(`${dataDir}/.cognito/config.json`)).toBe(true);
    await extra.stop();
    expect(existsSync(dataDir)).toBe(false);
    await expect(fetch(`${endpoint}/health`)).rejects.toThrow();
  });
});
