import { randomUUID } from 'node:crypto';
import {
  type CreateSecretCommandInput,
  DescribeSecretCommand,
  type DescribeSecretCommandInput,
  type GetSecretValueCommandInput,
  type PutSecretValueCommandInput,
  RotateSecretCommand,
  type RotateSecretCommandInput,
  SecretsManagerClient,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import {
  type LocalSecretsManager,
  type RotationEvent,
  type SecretsManagerOperation,
  startLocalSecretsManager,
} from '../../local/secrets-manager.ts';

/** What each operation's request carries on the wire. */
interface OperationInputs {
  CreateSecret: CreateSecretCommandInput;
  GetSecretValue: GetSecretValueCommandInput;
  PutSecretValue: PutSecretValueCommandInput;
  DescribeSecret: DescribeSecretCommandInput;
  UpdateSecretVersionStage: UpdateSecretVersionStageCommandInput;
  RotateSecret: RotateSecretCommandInput;
}

/** Thrown by the rotation function of `startRotation` to stop before the first step. */
const PAUSED = Symbol('rotation paused before createSecret');

/**
 * The local Secrets Manager of `npm run dev` (`local/secrets-manager.ts`) for the key tests: one
 * per test file, reached through the SDK's standard `AWS_ENDPOINT_URL_SECRETS_MANAGER`, so every
 * `new SecretsManagerClient({})`, in the tests and in the code under test, talks to it. It counts
 * the requests it receives, per test.
 */
export function useLocalSecretsManager() {
  let server: LocalSecretsManager | undefined;
  let client: SecretsManagerClient | undefined;
  const received: Array<{ operation: SecretsManagerOperation; input: unknown }> = [];
  let stepFailure: unknown;
  const previousEndpoint = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;

  beforeAll(async () => {
    server = await startLocalSecretsManager({
      onRequest: (operation, input) => received.push({ operation, input }),
      onRotationFailure: (error) => {
        stepFailure = error;
      },
    });
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = server.endpoint;
    client = new SecretsManagerClient({});
  });
  beforeEach(() => {
    received.length = 0;
  });
  afterAll(async () => {
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = previousEndpoint;
    client?.destroy();
    await server?.close();
  });

  /** RotateSecret with a fresh token, each step run by `runStep`; resolves the token. */
  async function rotateSecret(secretId: string, runStep: (event: RotationEvent) => Promise<unknown>): Promise<string> {
    const token = randomUUID();
    stepFailure = undefined;
    server?.setRotationHandler(async (event) => {
      await runStep(event);
    });
    try {
      await client?.send(new RotateSecretCommand({ SecretId: secretId, ClientRequestToken: token }));
    } finally {
      server?.setRotationHandler(undefined);
    }
    return token;
  }

  const inputs = <O extends SecretsManagerOperation>(operation: O): OperationInputs[O][] =>
    received.filter((r) => r.operation === operation).map((r) => r.input as OperationInputs[O]);

  return {
    /** How many `operation` requests the service received since this test began. */
    calls: (operation: SecretsManagerOperation): number => inputs(operation).length,
    /** The inputs of those requests, as sent (the SDK fills in idempotency tokens). */
    inputs,
    /**
     * What the service does when a rotation starts: a new version labelled AWSPENDING, without a
     * value yet. Resolves its token; the steps are the test's to run.
     */
    async startRotation(secretId: string): Promise<string> {
      const token = await rotateSecret(secretId, async () => {
        throw PAUSED;
      });
      if (stepFailure !== PAUSED) throw new Error(`RotateSecret did not start a rotation of ${secretId}`);
      return token;
    },
    /**
     * A whole rotation through RotateSecret: the service runs the four steps through `runStep`
     * (the rotation Lambda's part), then clears AWSPENDING. Rejects with a failed step's error.
     */
    async rotate(secretId: string, runStep: (event: RotationEvent) => Promise<unknown>): Promise<string> {
      const token = await rotateSecret(secretId, runStep);
      if (stepFailure !== undefined) throw stepFailure;
      return token;
    },
    /** The secret's versions and their staging labels (`VersionIdsToStages`). */
    async stages(secretId: string): Promise<Record<string, string[]>> {
      const described = await client?.send(new DescribeSecretCommand({ SecretId: secretId }));
      return described?.VersionIdsToStages ?? {};
    },
  };
}

export type TestSecretsManager = ReturnType<typeof useLocalSecretsManager>;
