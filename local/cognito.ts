/**
 * Development stand-in: Amazon Cognito user pools via cognito-local (a Node emulator), started as
 * a child process on 127.0.0.1, plus an idempotent bootstrap of the pool this product expects
 * (custom attributes `tenant_id` and `region`, groups `tenant-admins` / `embed-signers`, users
 * with permanent passwords) and a USER_PASSWORD_AUTH login helper. Not used in AWS.
 *
 * Facts about cognito-local 3.23 this module relies on (checked in its source and in tests):
 * - its state lives in `.cognito/` under the working directory, so the child runs with
 *   `cwd = dataDir`; `.cognito/config.json` sets the token issuer domain;
 * - every pool signs with one fixed RS256 key (`kid: "CognitoLocal"`), served by every
 *   `/<poolId>/.well-known/jwks.json`; the issuer is `<IssuerDomain>/<poolId>`;
 * - the ID token carries `custom:*` attributes as strings and `cognito:groups` as a JSON array
 *   (absent when the user is in no group), `aud` = the app client id, `token_use: "id"`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  GroupExistsException,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { GROUP_EMBED_SIGNERS, GROUP_TENANT_ADMINS } from '../functions/shared/identity.ts';
import { freePort, localCredentials } from './dynamodb.ts';

/** A running cognito-local. */
export interface LocalCognito {
  /** Base URL, e.g. `http://127.0.0.1:51234`; also the token issuer domain. */
  readonly endpoint: string;
  readonly port: number;
  /** Directory holding `.cognito/` (config and pools). */
  readonly dataDir: string;
  /** An SDK client pointed at this emulator (destroyed by `stop`). */
  readonly client: CognitoIdentityProviderClient;
  /** Stops the child process; removes the data directory when it was a temporary one. */
  stop(): Promise<void>;
}

/** What the product needs to know about a bootstrapped user pool. */
export interface LocalUserPool {
  readonly userPoolId: string;
  /** The app client whose id is the ID token's `aud`. */
  readonly clientId: string;
  /** The `iss` of the pool's tokens: `<endpoint>/<userPoolId>`. */
  readonly issuer: string;
  /** `<issuer>/.well-known/jwks.json`. */
  readonly jwksUrl: string;
  /** USER_PASSWORD_AUTH against this pool's app client. */
  login(username: string, password: string): Promise<LoginTokens>;
}

export interface LoginTokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
}

/** A user to create (or bring up to date) in the pool. */
export interface LocalUserSpec {
  readonly username: string;
  readonly password: string;
  /** Immutable `custom:tenant_id`. */
  readonly tenantId: string;
  /** Optional `custom:region` (an RLS attribute in the demo). */
  readonly region?: string;
  readonly email?: string;
  readonly groups?: readonly string[];
}

const CUSTOM_ATTRIBUTES = [
  // Mirrors the deployed pool: the tenant is fixed at creation, the region may change.
  { Name: 'tenant_id', AttributeDataType: 'String' as const, Mutable: false },
  { Name: 'region', AttributeDataType: 'String' as const, Mutable: true },
];

const CHILD_WATCHDOG = fileURLToPath(new URL('./child-watchdog.cjs', import.meta.url));

/** Children still running, killed synchronously if this process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function killChildrenOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

/**
 * Starts cognito-local on 127.0.0.1 (a free port unless `port` is given) and resolves once it
 * answers `/health`. With `dataDir`, pools persist there between runs; without, a temporary
 * directory is used and removed on `stop`.
 */
export async function startCognitoLocal(
  options: { port?: number; dataDir?: string; startupTimeoutMs?: number } = {},
): Promise<LocalCognito> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cognito-local-'));
  mkdirSync(join(dataDir, '.cognito', 'db'), { recursive: true });
  // Written on every start because the issuer must carry this run's port; usernames are plain
  // (not email aliases) so seeded users can be called "alice" like in the deployed demo.
  writeFileSync(
    join(dataDir, '.cognito', 'config.json'),
    `${JSON.stringify({ TokenConfig: { IssuerDomain: endpoint }, UserPoolDefaults: { UsernameAttributes: [] } }, null, 2)}\n`,
  );

  const require = createRequire(import.meta.url);
  const startScript = require.resolve('cognito-local/lib/bin/start.js');
  const child = spawn(process.execPath, ['-r', CHILD_WATCHDOG, startScript], {
    cwd: dataDir,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), DEBUG: '', COGNITO_LOCAL_DEVMODE: '' },
    // The IPC channel is only a lifeline: the watchdog exits the child when it closes.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  killChildrenOnExit(child);
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  const stopChild = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });

  const deadline = Date.now() + (options.startupTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`cognito-local exited (${child.exitCode}): ${output}`);
    }
    try {
      const response = await fetch(`${endpoint}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild();
      throw new Error(`cognito-local did not start on ${endpoint}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const client = new CognitoIdentityProviderClient({
    endpoint,
    region: 'us-east-1',
    credentials: localCredentials(),
  });
  return {
    endpoint,
    port,
    dataDir,
    client,
    async stop() {
      client.destroy();
      await stopChild();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates (or finds, by name) the product's user pool, its app client and groups. Idempotent,
 * so a persistent `dataDir` can be bootstrapped on every `npm run dev`.
 */
export async function bootstrapUserPool(
  cognito: LocalCognito,
  options: { poolName?: string; clientName?: string } = {},
): Promise<LocalUserPool> {
  const poolName = options.poolName ?? 'secure-embed-local';
  const clientName = options.clientName ?? 'secure-embed-web';
  const { client } = cognito;

  const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  let userPoolId = pools.UserPools?.find((pool) => pool.Name === poolName)?.Id;
  if (!userPoolId) {
    const created = await client.send(
      new CreateUserPoolCommand({
        PoolName: poolName,
        Schema: CUSTOM_ATTRIBUTES,
        Policies: { PasswordPolicy: { MinimumLength: 8 } },
      }),
    );
    userPoolId = created.UserPool?.Id;
    if (!userPoolId) throw new Error('cognito-local returned no user pool id');
  }

  const clients = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  let clientId = clients.UserPoolClients?.find((c) => c.ClientName === clientName)?.ClientId;
  if (!clientId) {
    const created = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: clientName,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        GenerateSecret: false,
      }),
    );
    clientId = created.UserPoolClient?.ClientId;
    if (!clientId) throw new Error('cognito-local returned no app client id');
  }

  // cognito-local's CreateGroup overwrites an existing group (dropping its members) instead of
  // failing with GroupExistsException, so only missing groups are created.
  const groups = await client.send(new ListGroupsCommand({ UserPoolId: userPoolId }));
  const existing = new Set(groups.Groups?.map((group) => group.GroupName));
  for (const group of [GROUP_TENANT_ADMINS, GROUP_EMBED_SIGNERS]) {
    if (existing.has(group)) continue;
    try {
      await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
    } catch (error) {
      if (!(error instanceof GroupExistsException)) throw error;
    }
  }

  const issuer = `${cognito.endpoint}/${userPoolId}`;
  const poolClientId = clientId;
  return {
    userPoolId,
    clientId,
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    login: (username, password) => login(cognito, poolClientId, username, password),
  };
}

/**
 * Creates a user with a permanent password, its custom attributes and group memberships; for an
 * existing user, resets the password and mutable attributes and adds missing groups (Cognito
 * would refuse to change the immutable `custom:tenant_id`, so a mismatch is an error).
 * Returns the user's `sub`.
 */
export async function ensureUser(
  cognito: LocalCognito,
  pool: Pick<LocalUserPool, 'userPoolId'>,
  user: LocalUserSpec,
): Promise<string> {
  const { client } = cognito;
  const UserPoolId = pool.userPoolId;
  const mutable = [
    ...(user.region !== undefined ? [{ Name: 'custom:region', Value: user.region }] : []),
    ...(user.email !== undefined
      ? [
          { Name: 'email', Value: user.email },
          { Name: 'email_verified', Value: 'true' },
        ]
      : []),
  ];
  try {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId,
        Username: user.username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'custom:tenant_id', Value: user.tenantId }, ...mutable],
      }),
    );
  } catch (error) {
    if (!(error instanceof UsernameExistsException)) throw error;
    const existing = await client.send(new AdminGetUserCommand({ UserPoolId, Username: user.username }));
    const tenant = existing.UserAttributes?.find((a) => a.Name === 'custom:tenant_id')?.Value;
    if (tenant !== user.tenantId) {
      throw new Error(`User ${user.username} already exists in tenant ${tenant ?? '(none)'}, not ${user.tenantId}`);
    }
    if (mutable.length > 0) {
      await client.send(
        new AdminUpdateUserAttributesCommand({ UserPoolId, Username: user.username, UserAttributes: mutable }),
      );
    }
  }
  await client.send(
    new AdminSetUserPasswordCommand({ UserPoolId, Username: user.username, Password: user.password, Permanent: true }),
  );
  // AdminAddUserToGroup is idempotent in Cognito and in cognito-local.
  for (const group of user.groups ?? []) {
    await client.send(new AdminAddUserToGroupCommand({ UserPoolId, Username: user.username, GroupName: group }));
  }
  const created = await client.send(new AdminGetUserCommand({ UserPoolId, Username: user.username }));
  const sub = created.UserAttributes?.find((a) => a.Name === 'sub')?.Value;
  if (!sub) throw new Error(`cognito-local returned no sub for ${user.username}`);
  return sub;
}

/** USER_PASSWORD_AUTH (InitiateAuth), as the web app does; rejects with the SDK's exception. */
export async function login(
  cognito: Pick<LocalCognito, 'client'>,
  clientId: string,
  username: string,
  password: string,
): Promise<LoginTokens> {
  const result = await cognito.client.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  const tokens = result.AuthenticationResult;
  if (!tokens?.IdToken || !tokens.AccessToken) {
    throw new Error(`Login for ${username} returned a challenge (${result.ChallengeName ?? 'none'}), not tokens`);
  }
  return {
    idToken: tokens.IdToken,
    accessToken: tokens.AccessToken,
    ...(tokens.RefreshToken ? { refreshToken: tokens.RefreshToken } : {}),
  };
}
