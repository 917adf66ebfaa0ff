import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableGateway } from '#control/table-gateway';
import { createKeySetRepository } from '#keys/key-set';
import { documentClient } from '#shared/clients';
import { type LocalSecretsManager, startLocalSecretsManager } from '../../local/secrets-manager.ts';

const run = promisify(execFile);
let server: LocalSecretsManager;

beforeAll(async () => {
  server = await startLocalSecretsManager({ rotationHandler: async () => undefined });
});
afterAll(async () => {
  await server?.close();
});

async function onboard(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/onboard-tenant.ts', ...args], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: server.endpoint,
        SIGNING_KEY_SECRET_PREFIX: 'embed/signing-keys/script/',
        ROTATION_LAMBDA_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:rotate',
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run onboard-tenant', () => {
  it('records the tenant, creates its signing key and publishes the public key; a second run is refused', async () => {
    const tenant = `script-${Date.now().toString(36)}`;
    const first = await onboard(['--tenant', tenant, '--name', 'Script Co']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`signing key ${tenant}.1`);
    const set = await createKeySetRepository({ table: new TableGateway(documentClient(), 'test-control') }).getKeySet(
      tenant,
    );
    expect(set?.keys.map((key) => [key.kid, key.status])).toEqual([[`${tenant}.1`, 'current']]);
    expect(JSON.stringify(set)).not.toContain('"d"');

    const again = await onboard(['--tenant', tenant]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refused: CONFLICT');
  });

  it('explains its usage on bad arguments with exit code 2', async () => {
    const result = await onboard(['--tenant']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npm run onboard-tenant');
  });
});
