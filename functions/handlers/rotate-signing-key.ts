import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { toEmbedError } from '#errors';
import { createLogger } from '#http/observability';
import { TableGateway } from '#control/table-gateway';
import { documentClient } from '#shared/clients';
import { secretsManagerClient } from '#shared/secrets-manager-client';
import { optionalEnv, requireEnv } from '#shared/config';
import { createKeySetRepository } from '#keys/key-set';
import { createSigningKeyRotation, type RotationStep } from '#keys/rotation';
import { DEFAULT_SIGNING_KEY_SECRET_PREFIX } from '#keys/secret-value';

/**
 * Secrets Manager rotation Lambda for tenant signing keys. Thin: validates the event, runs one
 * step, logs what happened by kid and step only. Key material never reaches a log line: the
 * domain returns only kids and outcomes, and errors are logged by code (their causes can quote
 * SDK responses, never secret values, but we do not take the chance).
 */

const config = {
  controlTable: requireEnv('CONTROL_TABLE_NAME'),
  prefix: optionalEnv('SIGNING_KEY_SECRET_PREFIX', DEFAULT_SIGNING_KEY_SECRET_PREFIX),
};

const logger = createLogger('rotate-signing-key');
const rotation = createSigningKeyRotation({
  secrets: secretsManagerClient(),
  keySets: createKeySetRepository({ table: new TableGateway(documentClient(), config.controlTable) }),
  prefix: config.prefix,
  now: Date.now,
});

const STEPS: ReadonlySet<string> = new Set<RotationStep>(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);

export async function handler(event: SecretsManagerRotationEvent): Promise<void> {
  const { Step: step, SecretId: secretId, ClientRequestToken: clientRequestToken } = event ?? {};
  if (
    typeof step !== 'string' ||
    !STEPS.has(step) ||
    typeof secretId !== 'string' ||
    typeof clientRequestToken !== 'string'
  ) {
    logger.error('Rejected a malformed rotation event');
    throw new Error('Malformed rotation event');
  }
  try {
    const outcome = await rotation.runStep({ step: step as RotationStep, secretId, clientRequestToken });
    logger.info('Rotation step done', { step, tenantId: outcome.tenantId, result: outcome.result, kid: outcome.kid });
  } catch (error) {
    const embedError = toEmbedError(error);
    // Code, message and the cause's class name only: enough to act on, nothing that could quote a value.
    const causeName = embedError.cause instanceof Error ? embedError.cause.name : undefined;
    logger.error('Rotation step failed', { step, code: embedError.code, reason: embedError.message, causeName });
    throw embedError;
  }
}
