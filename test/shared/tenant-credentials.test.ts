import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TenantScopedClients } from '#shared/tenant-credentials';

const sts = mockClient(STSClient);

function credentialsExpiringIn(ms: number, id: string) {
  return {
    Credentials: {
      AccessKeyId: `AKIA${id}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + ms),
    },
  };
}

describe('TenantScopedClients', () => {
  beforeEach(() => sts.reset());

  it('assumes the tenant role with the tenant session tag from the verified tenant', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(credentialsExpiringIn(900_000, 'ACME'));
    const clients = new TenantScopedClients({
      sts: new STSClient({ region: 'us-east-1' }),
      roleArn: 'arn:aws:iam::1:role/tenant',
    });
    // Act
    const credentials = await clients.credentials('acme');
    // Assess
    expect(credentials.accessKeyId).toBe('AKIAACME');
    const input = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(input).toEqual({
      RoleArn: 'arn:aws:iam::1:role/tenant',
      RoleSessionName: 'tenant-acme',
      DurationSeconds: 900,
      Tags: [{ Key: 'tenant', Value: 'acme' }],
    });
  });

  it('caches per tenant and shares one AssumeRole between concurrent first calls', async () => {
    sts
      .on(AssumeRoleCommand)
      .callsFake(async (input) => credentialsExpiringIn(900_000, input.Tags[0].Value.toUpperCase()));
    const clients = new TenantScopedClients({
      sts: new STSClient({ region: 'us-east-1' }),
      roleArn: 'arn:aws:iam::1:role/tenant',
    });
    const [a1, a2, b1] = await Promise.all([
      clients.credentials('acme'),
      clients.credentials('acme'),
      clients.credentials('globex'),
    ]);
    const a3 = await clients.credentials('acme');
    expect(a1.accessKeyId).toBe('AKIAACME');
    expect(a2).toBe(a1);
    expect(a3).toBe(a1);
    expect(b1.accessKeyId).toBe('AKIAGLOBEX');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(clients.documentClient('acme')).toBe(clients.documentClient('acme'));
    expect(clients.documentClient('acme')).not.toBe(clients.documentClient('globex'));
  });

  it('refreshes credentials that are about to expire', async () => {
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(credentialsExpiringIn(60_000, 'OLD'))
      .resolves(credentialsExpiringIn(900_000, 'NEW'));
    const clients = new TenantScopedClients({
      sts: new STSClient({ region: 'us-east-1' }),
      roleArn: 'arn:aws:iam::1:role/tenant',
    });
    expect((await clients.credentials('acme')).accessKeyId).toBe('AKIAOLD');
    expect((await clients.credentials('acme')).accessKeyId).toBe('AKIANEW');
  });

  it('reports an STS failure as a retryable dependency error and refuses bad tenant ids', async () => {
    sts.on(AssumeRoleCommand).rejects(new Error('AccessDenied: arn:aws:iam::1:role/tenant'));
    const clients = new TenantScopedClients({
      sts: new STSClient({ region: 'us-east-1' }),
      roleArn: 'arn:aws:iam::1:role/tenant',
    });
    await expect(clients.credentials('acme')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
    expect(() => clients.documentClient('../other')).toThrow(TypeError);
  });
});
