import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantScopedClients } from '../../functions/shared/tenant-credentials.ts';
import { type LocalSts, startLocalSts } from '../../local/sts.ts';

const ROLE_ARN = 'arn:aws:iam::000000000000:role/embed-tenant-data-reader';
const NOW = new Date('2030-01-01T00:00:00Z');

let sts: LocalSts;
let client: STSClient;

beforeAll(async () => {
  sts = await startLocalSts({ now: () => NOW });
  client = new STSClient({
    endpoint: sts.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client.destroy();
  await sts.close();
});

describe('local STS', () => {
  it('AssumeRole with a session tag returns temporary credentials and records the tag', async () => {
    // Act
    const result = await client.send(
      new AssumeRoleCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: 'tenant-acme',
        DurationSeconds: 900,
        Tags: [{ Key: 'tenant', Value: 'acme' }],
      }),
    );
    // Assess
    const credentials = result.Credentials;
    expect(credentials?.AccessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(credentials?.SecretAccessKey).toEqual(expect.any(String));
    expect(credentials?.SessionToken).toEqual(expect.any(String));
    expect(credentials?.Expiration?.toISOString()).toBe('2030-01-01T00:15:00.000Z');
    expect(result.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::000000000000:assumed-role/embed-tenant-data-reader/tenant-acme',
    );
    expect(sts.sessionFor(credentials?.AccessKeyId as string)).toMatchObject({
      roleArn: ROLE_ARN,
      roleSessionName: 'tenant-acme',
      durationSeconds: 900,
      tags: { tenant: 'acme' },
    });
  });

  it('records several tags and transitive tag keys in order', async () => {
    const result = await client.send(
      new AssumeRoleCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: 'multi',
        Tags: [
          { Key: 'tenant', Value: 'globex' },
          { Key: 'region', Value: 'EU' },
        ],
        TransitiveTagKeys: ['tenant'],
      }),
    );
    const session = sts.sessionFor(result.Credentials?.AccessKeyId as string);
    expect(session?.tags).toEqual({ tenant: 'globex', region: 'EU' });
    expect(session?.transitiveTagKeys).toEqual(['tenant']);
    expect(session?.durationSeconds).toBe(3600);
  });

  it('answers GetCallerIdentity as the assumed role for its credentials', async () => {
    const assumed = await client.send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'who', Tags: [{ Key: 'tenant', Value: 'acme' }] }),
    );
    const c = assumed.Credentials;
    const asRole = new STSClient({
      endpoint: sts.endpoint,
      region: 'us-east-1',
      credentials: {
        accessKeyId: c?.AccessKeyId as string,
        secretAccessKey: c?.SecretAccessKey as string,
        sessionToken: c?.SessionToken as string,
      },
    });
    const identity = await asRole.send(new GetCallerIdentityCommand({}));
    asRole.destroy();
    expect(identity.Arn).toBe('arn:aws:sts::000000000000:assumed-role/embed-tenant-data-reader/who');
    expect(identity.Account).toBe('000000000000');
  });

  it.each([
    [{ RoleArn: 'not-an-arn', RoleSessionName: 'ok-name' }, 'not a valid role ARN'],
    [{ RoleArn: ROLE_ARN, RoleSessionName: 'x' }, "'roleSessionName' failed to satisfy constraint"],
    [{ RoleArn: ROLE_ARN, RoleSessionName: 'ok-name', DurationSeconds: 60 }, "'durationSeconds' failed"],
    [{ RoleArn: ROLE_ARN, RoleSessionName: 'ok-name', DurationSeconds: 7200 }, 'exceeds the MaxSessionDuration'],
  ])('refuses an invalid AssumeRole (%j) with a ValidationError', async (input, message) => {
    const call = client.send(new AssumeRoleCommand(input));
    await expect(call).rejects.toBeInstanceOf(STSServiceException);
    await expect(call).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(message),
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('serves the product path unchanged: TenantScopedClients assumes the role with tenant=<t> and reads DynamoDB Local', async () => {
    // Prepare: the product's own tenant-scoped client factory, pointed at the local STS.
    const before = sts.sessions.length;
    const scoped = new TenantScopedClients({ sts: client, roleArn: ROLE_ARN, now: () => NOW.getTime() });
    // Act
    const read = await scoped
      .documentClient('acme')
      .send(new GetCommand({ TableName: process.env.DATA_TABLE_NAME, Key: { pk: 'acme#ds#1#EU', sk: 'none' } }));
    // Assess
    expect(read.Item).toBeUndefined();
    const session = sts.sessions.at(-1);
    expect(sts.sessions.length).toBe(before + 1);
    expect(session).toMatchObject({ roleSessionName: 'tenant-acme', tags: { tenant: 'acme' }, durationSeconds: 900 });
  });
});
