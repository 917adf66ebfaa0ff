import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  ResourceExistsException,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Conflict, DependencyUnavailable, ValidationFailed } from '#errors';
import { isTenantId } from '#shared/identity';
import { EMBED_TOKEN_ALG, formatKid } from '#token/format';
import { generateSigningKeyPair } from './key-material.ts';
import { initialKeySet, type KeySetRepository } from './key-set.ts';
import { serializeSigningKeySecret, signingKeySecretName } from './secret-value.ts';
import type { Clock } from './types.ts';

/** Rotation schedule: every N days, or a Secrets Manager schedule expression (`rate(…)`/`cron(…)`). */
export type RotationSchedule = { readonly rotationDays: number } | { readonly scheduleExpression: string };

export interface CreateTenantSigningKeyInput {
  readonly secrets: SecretsManagerClient;
  readonly keySets: KeySetRepository;
  readonly prefix: string;
  readonly tenantId: string;
  readonly rotationLambdaArn: string;
  readonly schedule: RotationSchedule;
  /** The customer managed KMS key that encrypts signing secrets (the stack's `SigningKeyKmsKeyArn`); AWS managed when omitted. */
  readonly kmsKeyId?: string;
  readonly now: Clock;
}

/** The onboarded tenant's first key. */
export interface TenantSigningKeyCreated {
  readonly kid: string;
  readonly secretArn: string;
}

/**
 * Onboards a tenant's signing key: creates the secret with the first key (kid `<tenant>.1`) as
 * AWSCURRENT, publishes its public key as current (before any token can be signed with it), then
 * turns on scheduled rotation without rotating now. A tenant that already has a secret → `CONFLICT`.
 */
export async function createTenantSigningKey(input: CreateTenantSigningKeyInput): Promise<TenantSigningKeyCreated> {
  const { secrets, tenantId } = input;
  if (!isTenantId(tenantId)) throw new ValidationFailed('tenantId', 'must be a tenant id');
  const rotationRules = toRotationRules(input.schedule);
  const name = signingKeySecretName(input.prefix, tenantId);
  const kid = formatKid(tenantId, 1);
  const createdAt = new Date(input.now()).toISOString();
  const { privateJwk, publicJwk } = await generateSigningKeyPair();

  let secretArn: string;
  try {
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: name,
        Description: `Embed token signing key of tenant ${tenantId}`,
        ClientRequestToken: randomUUID(),
        SecretString: serializeSigningKeySecret({ kid, alg: EMBED_TOKEN_ALG, privateJwk, createdAt }),
        Tags: [{ Key: 'tenant', Value: tenantId }],
        ...(input.kmsKeyId ? { KmsKeyId: input.kmsKeyId } : {}),
      }),
    );
    if (!created.ARN) throw new Error('CreateSecret returned no ARN');
    secretArn = created.ARN;
  } catch (cause) {
    if (cause instanceof ResourceExistsException) throw new Conflict('The tenant already has a signing key.');
    throw new DependencyUnavailable({ cause });
  }

  await input.keySets.putKeySet(initialKeySet(tenantId, { kid, jwk: publicJwk, createdAt }, createdAt), undefined);

  try {
    await secrets.send(
      new RotateSecretCommand({
        SecretId: secretArn,
        RotationLambdaARN: input.rotationLambdaArn,
        RotationRules: rotationRules,
        RotateImmediately: false,
      }),
    );
  } catch (cause) {
    throw new DependencyUnavailable({ cause });
  }
  return { kid, secretArn };
}

function toRotationRules(
  schedule: RotationSchedule,
): { AutomaticallyAfterDays: number } | { ScheduleExpression: string } {
  if ('rotationDays' in schedule) {
    const days = schedule.rotationDays;
    // Secrets Manager accepts 1–1000 days.
    if (!Number.isInteger(days) || days < 1 || days > 1000) {
      throw new ValidationFailed('rotationDays', 'must be an integer between 1 and 1000');
    }
    return { AutomaticallyAfterDays: days };
  }
  if (!/^(rate|cron)\([^()]{1,200}\)$/.test(schedule.scheduleExpression)) {
    throw new ValidationFailed('scheduleExpression', 'must be a rate() or cron() expression');
  }
  return { ScheduleExpression: schedule.scheduleExpression };
}
