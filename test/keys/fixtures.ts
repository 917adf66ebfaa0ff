import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { documentClient } from '#shared/clients';
import { createKeySetRepository, type KeySetRepository } from '#keys/key-set';
import { createTenantSigningKey } from '#keys/onboarding';
import { TableGateway } from '#control/table-gateway';

export const PREFIX = 'embed/signing-keys/';
export const ROTATION_LAMBDA_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-signing-key';

/** The real key set repository on the shared DynamoDB Local control table. */
export function keySetRepository(): KeySetRepository {
  return createKeySetRepository({
    table: new TableGateway(documentClient(), process.env.CONTROL_TABLE_NAME ?? 'test-control'),
  });
}

/** Wraps a repository so the tests can count validator reads. */
export function countingReads(repository: KeySetRepository): KeySetRepository & { reads: number } {
  const counted = {
    ...repository,
    reads: 0,
    getKeySet(tenantId: string, options?: { consistent?: boolean }) {
      counted.reads++;
      return repository.getKeySet(tenantId, options);
    },
  };
  return counted;
}

/** A mutable frozen clock. */
export function clock(start: number) {
  let current = start;
  return {
    now: () => current,
    advance: (ms: number) => {
      current += ms;
    },
  };
}

/** Onboards a tenant through the real domain function (the local Secrets Manager the caller started, DynamoDB Local). */
export async function onboard(tenantId: string, now: () => number) {
  return createTenantSigningKey({
    secrets: new SecretsManagerClient({}),
    keySets: keySetRepository(),
    prefix: PREFIX,
    tenantId,
    rotationLambdaArn: ROTATION_LAMBDA_ARN,
    schedule: { rotationDays: 30 },
    now,
  });
}
