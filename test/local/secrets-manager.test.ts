import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RotationEvent, type RotationHandler, startLocalSecretsManager } from '../../local/secrets-manager.ts';

const TOKEN_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const TOKEN_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const TOKEN_C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:rotate-signing-key';

let server: Awaited<ReturnType<typeof startLocalSecretsManager>>;
let client: SecretsManagerClient;
let handler: RotationHandler | undefined;
const failures: Array<{ error: unknown; event: RotationEvent }> = [];
let counter = 0;

/** A unique secret name per test, so tests never see each other's state. */
function secretName(): string {
  counter += 1;
  return `embed/signing-keys/t${counter}-${Date.now()}`;
}

beforeAll(async () => {
  server = await startLocalSecretsManager({
    rotationHandler: (event, context) => (handler ? handler(event, context) : Promise.resolve()),
    onRotationFailure: (error, event) => failures.push({ error, event }),
  });
  client = new SecretsManagerClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('local Secrets Manager: create, read, describe', () => {
  it('creates a secret with an AWS-shaped ARN and reads AWSCURRENT by name and by ARN', async () => {
    // Prepare
    const name = secretName();
    // Act
    const created = await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: '{"kid":"acme.1"}',
        ClientRequestToken: TOKEN_A,
        Description: 'signing key',
        Tags: [{ Key: 'tenant', Value: 'acme' }],
      }),
    );
    const byName = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    // Assess
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-[A-Za-z0-9]{6}$`),
    );
    expect(created.VersionId).toBe(TOKEN_A);
    for (const got of [byName, byArn]) {
      expect(got).toMatchObject({
        ARN: created.ARN,
        Name: name,
        VersionId: TOKEN_A,
        SecretString: '{"kid":"acme.1"}',
        VersionStages: ['AWSCURRENT'],
      });
      expect(got.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it('describes a secret with tags, rotation state and VersionIdsToStages', async () => {
    const name = secretName();
    await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: 'v1',
        ClientRequestToken: TOKEN_A,
        Description: 'd',
        Tags: [{ Key: 'tenant', Value: 'acme' }],
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({
      Name: name,
      Description: 'd',
      RotationEnabled: false,
      Tags: [{ Key: 'tenant', Value: 'acme' }],
      VersionIdsToStages: { [TOKEN_A]: ['AWSCURRENT'] },
    });
    expect(described.RotationLambdaARN).toBeUndefined();
    expect(described.CreatedDate).toBeInstanceOf(Date);
  });

  it('creates a secret without a value, which has no version until PutSecretValue', async () => {
    const name = secretName();
    const created = await client.send(new CreateSecretCommand({ Name: name }));
    expect(created.VersionId).toBeUndefined();
    await expect(client.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('treats a CreateSecret retry (same token and value) as success, anything else as ResourceExistsException', async () => {
    const name = secretName();
    const first = await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v', ClientRequestToken: TOKEN_A }),
    );
    const retry = await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v', ClientRequestToken: TOKEN_A }),
    );
    expect(retry).toMatchObject({ ARN: first.ARN, VersionId: TOKEN_A });
    const conflict = client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'other', ClientRequestToken: TOKEN_B }),
    );
    await expect(conflict).rejects.toBeInstanceOf(ResourceExistsException);
    await expect(conflict).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: `The operation failed because the secret ${name} already exists.`,
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('rejects invalid input with InvalidParameterException', async () => {
    const cases = [
      new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' }),
      new CreateSecretCommand({ Name: secretName(), SecretString: 'x', ClientRequestToken: 'short' }),
      new CreateSecretCommand({ Name: secretName(), SecretString: 'x', SecretBinary: new Uint8Array([1]) }),
    ];
    for (const command of cases) {
      await expect(client.send(command)).rejects.toBeInstanceOf(InvalidParameterException);
    }
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    // A new version needs a value.
    await expect(client.send(new PutSecretValueCommand({ SecretId: name }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(
      client.send(
        new RotateSecretCommand({
          SecretId: name,
          RotationLambdaARN: LAMBDA_ARN,
          RotationRules: { AutomaticallyAfterDays: 0 },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('answers ResourceNotFoundException for an unknown secret, version or stage', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'x', ClientRequestToken: TOKEN_A }));
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    });
    await expect(client.send(new GetSecretValueCommand({ SecretId: name, VersionId: TOKEN_B }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    // VersionId and VersionStage must name the same version.
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionId: TOKEN_A, VersionStage: 'AWSPREVIOUS' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('local Secrets Manager: versions and staging labels', () => {
  it('PutSecretValue makes the new version AWSCURRENT and the old one AWSPREVIOUS', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const put = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: TOKEN_B }),
    );
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v3', ClientRequestToken: TOKEN_C }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const previous = await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
    expect(put).toMatchObject({ VersionId: TOKEN_B, VersionStages: ['AWSCURRENT'] });
    // The first version lost its last label: deprecated, hidden from VersionIdsToStages.
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_B]: ['AWSPREVIOUS'], [TOKEN_C]: ['AWSCURRENT'] });
    expect(previous.SecretString).toBe('v2');
  });

  it('PutSecretValue with VersionStages AWSPENDING leaves AWSCURRENT alone; a retry is idempotent, a changed value is refused', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const pending = new PutSecretValueCommand({
      SecretId: name,
      SecretString: 'v2',
      ClientRequestToken: TOKEN_B,
      VersionStages: ['AWSPENDING'],
    });
    await client.send(pending);
    const retry = await client.send(pending);
    expect(retry).toMatchObject({ VersionId: TOKEN_B, VersionStages: ['AWSPENDING'] });
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'changed', ClientRequestToken: TOKEN_B })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v1');
    expect(
      (await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: TOKEN_B, VersionStage: 'AWSPENDING' })))
        .SecretString,
    ).toBe('v2');
  });

  it('UpdateSecretVersionStage moves AWSCURRENT, labelling the old current AWSPREVIOUS', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: 'v2',
        ClientRequestToken: TOKEN_B,
        VersionStages: ['AWSPENDING'],
      }),
    );
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_B,
        RemoveFromVersionId: TOKEN_A,
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({
      [TOKEN_A]: ['AWSPREVIOUS'],
      [TOKEN_B]: ['AWSPENDING', 'AWSCURRENT'],
    });
    // Removing AWSPENDING alone is allowed.
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN_B }),
    );
    const after = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(after.VersionIdsToStages).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });
  });

  it('UpdateSecretVersionStage enforces AWS rules with InvalidParameterException', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: 'v2',
        ClientRequestToken: TOKEN_B,
        VersionStages: ['AWSPENDING'],
      }),
    );
    // Moving a label that is attached elsewhere without naming its holder.
    await expect(
      client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_B }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining(`currently attached to version ${TOKEN_A}`),
    });
    const refusals: [string, { MoveToVersionId?: string; RemoveFromVersionId?: string }, unknown][] = [
      [
        'naming the wrong holder',
        { MoveToVersionId: TOKEN_B, RemoveFromVersionId: TOKEN_B },
        InvalidParameterException,
      ],
      ['removing AWSCURRENT without a destination', { RemoveFromVersionId: TOKEN_A }, InvalidParameterException],
      [
        'an unknown destination version',
        { MoveToVersionId: TOKEN_C, RemoveFromVersionId: TOKEN_A },
        ResourceNotFoundException,
      ],
    ];
    for (const [_case, move, expected] of refusals) {
      await expect(
        client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', ...move })),
      ).rejects.toBeInstanceOf(expected as typeof InvalidParameterException);
    }
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_A]: ['AWSCURRENT'], [TOKEN_B]: ['AWSPENDING'] });
  });
});

describe('local Secrets Manager: RotateSecret', () => {
  /** A rotation function like the AWS templates: pending from createSecret, AWSCURRENT moved in finishSecret. */
  function templateRotation(calls: RotationEvent[], failAt?: RotationEvent['Step']): RotationHandler {
    return async (event) => {
      calls.push(event);
      if (event.Step === failAt) throw new Error(`boom at ${event.Step}`);
      if (event.Step === 'createSecret') {
        await client.send(
          new PutSecretValueCommand({
            SecretId: event.SecretId,
            ClientRequestToken: event.ClientRequestToken,
            SecretString: `rotated-${event.ClientRequestToken}`,
            VersionStages: ['AWSPENDING'],
          }),
        );
      }
      if (event.Step === 'finishSecret') {
        const current = await client.send(new GetSecretValueCommand({ SecretId: event.SecretId }));
        await client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: event.SecretId,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: event.ClientRequestToken,
            RemoveFromVersionId: current.VersionId,
          }),
        );
      }
    };
  }

  it('runs createSecret, setSecret, testSecret, finishSecret in order with a fresh token, then clears AWSPENDING', async () => {
    // Prepare
    const name = secretName();
    const created = await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }),
    );
    const calls: RotationEvent[] = [];
    const contexts: string[] = [];
    const rotation = templateRotation(calls);
    handler = async (event, context) => {
      contexts.push(context.rotationLambdaArn);
      await rotation(event, context);
    };
    // Act
    const rotated = await client.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: LAMBDA_ARN,
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    // Assess
    expect(calls.map((c) => c.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    const token = calls[0]?.ClientRequestToken;
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(token).not.toBe(TOKEN_A);
    expect(new Set(calls.map((c) => c.ClientRequestToken))).toEqual(new Set([token]));
    expect(new Set(calls.map((c) => c.SecretId))).toEqual(new Set([created.ARN]));
    expect(calls[0]?.RotationToken).toEqual(expect.any(String));
    expect(contexts).toEqual([LAMBDA_ARN, LAMBDA_ARN, LAMBDA_ARN, LAMBDA_ARN]);
    expect(rotated).toMatchObject({ ARN: created.ARN, Name: name, VersionId: token });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: LAMBDA_ARN,
      RotationRules: { AutomaticallyAfterDays: 30 },
      VersionIdsToStages: { [TOKEN_A]: ['AWSPREVIOUS'], [token as string]: ['AWSCURRENT'] },
    });
    expect(described.LastRotatedDate).toBeInstanceOf(Date);
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(`rotated-${token}`);
  });

  it('uses the caller ClientRequestToken and the stored Lambda ARN on a later rotation', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const calls: RotationEvent[] = [];
    handler = templateRotation(calls);
    await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: LAMBDA_ARN }));
    await client.send(new RotateSecretCommand({ SecretId: name, ClientRequestToken: TOKEN_C }));
    expect(calls.slice(4).map((c) => c.ClientRequestToken)).toEqual([TOKEN_C, TOKEN_C, TOKEN_C, TOKEN_C]);
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).VersionId).toBe(TOKEN_C);
  });

  it('leaves AWSPENDING in place after a failed step and refuses the next rotation like AWS', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const calls: RotationEvent[] = [];
    handler = templateRotation(calls, 'testSecret');
    failures.length = 0;
    // The call itself succeeds: in AWS it returns before the rotation function runs.
    const rotated = await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: LAMBDA_ARN }));
    expect(calls.map((c) => c.Step)).toEqual(['createSecret', 'setSecret', 'testSecret']);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.event.Step).toBe('testSecret');
    expect(failures[0]?.error).toMatchObject({ message: 'boom at testSecret' });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({
      [TOKEN_A]: ['AWSCURRENT'],
      [rotated.VersionId as string]: ['AWSPENDING'],
    });
    await expect(client.send(new RotateSecretCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'A previous rotation isn’t complete. That rotation will be reattempted.',
    });
    // Clearing the stuck AWSPENDING (the documented fix) makes rotation possible again.
    handler = templateRotation(calls);
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: rotated.VersionId,
      }),
    );
    await client.send(new RotateSecretCommand({ SecretId: name }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toMatch(/^rotated-/);
  });

  it('reports a finishSecret that did not move AWSCURRENT as a failed rotation', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const calls: RotationEvent[] = [];
    const template = templateRotation(calls);
    handler = async (event, context) => {
      if (event.Step !== 'finishSecret') await template(event, context);
    };
    failures.length = 0;
    await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: LAMBDA_ARN }));
    expect(failures.map((f) => (f.error as Error).message)).toEqual([
      expect.stringContaining('finishSecret did not move AWSCURRENT'),
    ]);
  });

  it('refuses a rotation without a Lambda ARN, and stores the configuration only when RotateImmediately is false', async () => {
    const name = secretName();
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    await expect(client.send(new RotateSecretCommand({ SecretId: name }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    const calls: RotationEvent[] = [];
    handler = templateRotation(calls);
    await client.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: LAMBDA_ARN,
        RotateImmediately: false,
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
      }),
    );
    expect(calls).toEqual([]);
    expect(await client.send(new DescribeSecretCommand({ SecretId: name }))).toMatchObject({
      RotationEnabled: true,
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      VersionIdsToStages: { [TOKEN_A]: ['AWSCURRENT'] },
    });
  });
});

describe('local Secrets Manager: server', () => {
  it('persists state to a JSON file and reloads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-state-'));
    const stateFile = join(dir, 'secrets.json');
    try {
      const first = await startLocalSecretsManager({ stateFile });
      const c1 = new SecretsManagerClient({
        endpoint: first.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const created = await c1.send(
        new CreateSecretCommand({ Name: 'kept', SecretString: 'v1', ClientRequestToken: TOKEN_A }),
      );
      c1.destroy();
      await first.close();

      const second = await startLocalSecretsManager({ stateFile });
      const c2 = new SecretsManagerClient({
        endpoint: second.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const got = await c2.send(new GetSecretValueCommand({ SecretId: 'kept' }));
      c2.destroy();
      await second.close();
      expect(got).toMatchObject({ ARN: created.ARN, SecretString: 'v1', VersionId: TOKEN_A });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells onRequest about each request it serves, with the input as sent', async () => {
    // Prepare
    const seen: Array<[string, unknown]> = [];
    const observed = await startLocalSecretsManager({ onRequest: (operation, input) => seen.push([operation, input]) });
    const observedClient = new SecretsManagerClient({
      endpoint: observed.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      // Act
      await observedClient.send(new CreateSecretCommand({ Name: 'o', SecretString: 'v', ClientRequestToken: TOKEN_A }));
      await observedClient.send(new GetSecretValueCommand({ SecretId: 'o', VersionStage: 'AWSCURRENT' }));
      await observedClient.send(new GetSecretValueCommand({ SecretId: 'missing' })).catch(() => undefined);

      // Assess
      expect(seen).toEqual([
        ['CreateSecret', { Name: 'o', SecretString: 'v', ClientRequestToken: TOKEN_A }],
        ['GetSecretValue', { SecretId: 'o', VersionStage: 'AWSCURRENT' }],
        ['GetSecretValue', { SecretId: 'missing' }],
      ]);
    } finally {
      observedClient.destroy();
      await observed.close();
    }
  });

  it('answers operations nothing here sends, and malformed bodies, with AWS error types', async () => {
    for (const operation of ['ListSecrets', 'DeleteSecret', 'GetRandomPassword']) {
      const unknown = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'x-amz-target': `secretsmanager.${operation}`, 'content-type': 'application/x-amz-json-1.1' },
        body: '{}',
      });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
    }
    const malformed = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' },
      body: '{not json',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ __type: 'SerializationException' });
  });
});
