import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { uniqueTenantId } from '../token/fixtures.ts';
import { keySetRepository, onboard } from '../keys/fixtures.ts';
import { useLocalSecretsManager } from '../keys/local-secrets-manager.ts';

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const sm = useLocalSecretsManager();
let output: string[];
beforeEach(() => {
  output = [];
  const capture = (chunk: unknown) => {
    output.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  vi.spyOn(console, 'log').mockImplementation((...args) => void output.push(args.join(' ')));
  vi.spyOn(console, 'info').mockImplementation((...args) => void output.push(args.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args) => void output.push(args.join(' ')));
  vi.spyOn(console, 'warn').mockImplementation((...args) => void output.push(args.join(' ')));
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Every private `d` stored in the secret's labelled versions (a pending version may have no value yet). */
async function privateScalars(secretArn: string): Promise<string[]> {
  const secrets = new SecretsManagerClient({});
  const scalars: string[] = [];
  for (const versionId of Object.keys(await sm.stages(secretArn))) {
    const value = await secrets
      .send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: versionId }))
      .catch((error: unknown) => {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      });
    if (value?.SecretString) scalars.push(JSON.parse(value.SecretString).privateJwk.d as string);
  }
  secrets.destroy();
  return scalars;
}

function event(step: (typeof STEPS)[number], secretId: string, token: string): SecretsManagerRotationEvent {
  return { Step: step, SecretId: secretId, ClientRequestToken: token } as SecretsManagerRotationEvent;
}

describe('rotate-signing-key handler', () => {
  it('rotates through the four steps and never logs key material', async () => {
    // Prepare: a tenant onboarded 20 minutes ago
    const { handler } = await import('../../functions/handlers/rotate-signing-key.ts');
    const tenantId = uniqueTenantId();
    const { secretArn } = await onboard(tenantId, () => Date.now() - 20 * 60_000);
    const token = await sm.startRotation(secretArn);

    // Act
    for (const step of STEPS) await handler(event(step, secretArn, token));

    // Assess
    const set = await keySetRepository().getKeySet(tenantId, { consistent: true });
    expect(set?.keys.map((k) => [k.kid, k.status])).toEqual([
      [`${tenantId}.1`, 'previous'],
      [`${tenantId}.2`, 'current'],
    ]);
    const log = output.join('\n');
    expect(log).toContain('Rotation step done');
    expect(log).toContain(`${tenantId}.2`);
    const scalars = await privateScalars(secretArn);
    expect(scalars).toHaveLength(2);
    for (const d of scalars) expect(log).not.toContain(d);
    expect(log).not.toContain('"d"');
  });

  it('logs a failed step by code only and rethrows', async () => {
    // Prepare: a tenant onboarded just now, so rotating is too soon
    const { handler } = await import('../../functions/handlers/rotate-signing-key.ts');
    const tenantId = uniqueTenantId();
    const { secretArn } = await onboard(tenantId, Date.now);
    const token = await sm.startRotation(secretArn);

    // Act
    const error = await handler(event('createSecret', secretArn, token)).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ code: 'ROTATION_TOO_SOON' });
    const log = output.join('\n');
    expect(log).toContain('ROTATION_TOO_SOON');
    for (const d of await privateScalars(secretArn)) expect(log).not.toContain(d);
  });

  it('refuses a malformed event', async () => {
    const { handler } = await import('../../functions/handlers/rotate-signing-key.ts');
    await expect(handler({ Step: 'dropSecret', SecretId: 'x', ClientRequestToken: 'y' } as never)).rejects.toThrow(
      'Malformed rotation event',
    );
  });
});
