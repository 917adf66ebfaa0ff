import { randomUUID } from 'node:crypto';
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
import { mockClient } from 'aws-sdk-client-mock';

/**
 * An in-memory Secrets Manager behind `aws-sdk-client-mock`, with the version/stage semantics
 * rotation depends on: AWSCURRENT moving leaves AWSPREVIOUS on the old version, a staging label
 * lives on one version at a time, and a rotation starts with an empty AWSPENDING version.
 */

interface Version {
  secretString?: string;
  readonly stages: Set<string>;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  rotationRules?: unknown;
  readonly tags: Array<{ Key?: string; Value?: string }>;
  readonly versions: Map<string, Version>;
}

const meta = { $metadata: {} };

export function fakeSecretsManager() {
  const mock = mockClient(SecretsManagerClient);
  const secrets = new Map<string, Secret>();

  const find = (secretId: string | undefined): Secret => {
    const secret = [...secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret)
      throw new ResourceNotFoundException({ message: 'Secrets Manager can not find the specified secret.', ...meta });
    return secret;
  };
  const moveStage = (secret: Secret, stage: string, to: string) => {
    for (const [id, version] of secret.versions) if (id !== to) version.stages.delete(stage);
    secret.versions.get(to)?.stages.add(stage);
  };

  mock.on(CreateSecretCommand).callsFake((input) => {
    if ([...secrets.values()].some((s) => s.name === input.Name)) {
      throw new ResourceExistsException({
        message: 'The operation failed because the secret already exists.',
        ...meta,
      });
    }
    const versionId = input.ClientRequestToken ?? randomUUID();
    const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.Name}-AbCdEf`;
    secrets.set(arn, {
      name: input.Name!,
      arn,
      rotationEnabled: false,
      tags: input.Tags ?? [],
      versions: new Map([[versionId, { secretString: input.SecretString, stages: new Set(['AWSCURRENT']) }]]),
    });
    return { ARN: arn, Name: input.Name, VersionId: versionId };
  });

  mock.on(GetSecretValueCommand).callsFake((input) => {
    const secret = find(input.SecretId);
    let entry: [string, Version] | undefined;
    if (input.VersionId) {
      const version = secret.versions.get(input.VersionId);
      if (version && (!input.VersionStage || version.stages.has(input.VersionStage)))
        entry = [input.VersionId, version];
    } else {
      const stage = input.VersionStage ?? 'AWSCURRENT';
      entry = [...secret.versions].find(([, v]) => v.stages.has(stage));
    }
    if (!entry || entry[1].secretString === undefined) {
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret value.",
        ...meta,
      });
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: entry[0],
      SecretString: entry[1].secretString,
      VersionStages: [...entry[1].stages],
    };
  });

  mock.on(PutSecretValueCommand).callsFake((input) => {
    const secret = find(input.SecretId);
    const versionId = input.ClientRequestToken ?? randomUUID();
    const existing = secret.versions.get(versionId);
    if (existing?.secretString !== undefined && existing.secretString !== input.SecretString) {
      throw new ResourceExistsException({ message: 'A version with this token already exists.', ...meta });
    }
    const version = existing ?? { stages: new Set<string>() };
    version.secretString = input.SecretString;
    secret.versions.set(versionId, version);
    for (const stage of input.VersionStages ?? ['AWSCURRENT']) moveStage(secret, stage, versionId);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [...version.stages] };
  });

  mock.on(DescribeSecretCommand).callsFake((input) => {
    const secret = find(input.SecretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: secret.rotationEnabled,
      RotationLambdaARN: secret.rotationLambdaArn,
      Tags: secret.tags,
      VersionIdsToStages: Object.fromEntries([...secret.versions].map(([id, v]) => [id, [...v.stages]])),
    };
  });

  mock.on(UpdateSecretVersionStageCommand).callsFake((input) => {
    const secret = find(input.SecretId);
    const stage = input.VersionStage!;
    const holder = [...secret.versions].find(([, v]) => v.stages.has(stage))?.[0];
    if (holder && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw new InvalidParameterException({ message: 'The staging label is attached to another version.', ...meta });
    }
    if (!input.MoveToVersionId || !secret.versions.has(input.MoveToVersionId)) {
      throw new InvalidRequestException({ message: 'The version does not exist.', ...meta });
    }
    if (stage === 'AWSCURRENT' && holder && holder !== input.MoveToVersionId) moveStage(secret, 'AWSPREVIOUS', holder);
    moveStage(secret, stage, input.MoveToVersionId);
    return { ARN: secret.arn, Name: secret.name };
  });

  mock.on(RotateSecretCommand).callsFake((input) => {
    const secret = find(input.SecretId);
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = input.RotationLambdaARN;
    secret.rotationRules = input.RotationRules;
    return { ARN: secret.arn, Name: secret.name };
  });

  return {
    mock,
    secrets,
    find,
    /** What the service does when a rotation starts: an empty version labelled AWSPENDING. */
    startRotation(secretId: string): string {
      const secret = find(secretId);
      const token = randomUUID();
      secret.versions.set(token, { stages: new Set() });
      moveStage(secret, 'AWSPENDING', token);
      return token;
    },
    /** What the service does after finishSecret succeeds: AWSPENDING is removed. */
    completeRotation(secretId: string): void {
      for (const version of find(secretId).versions.values()) version.stages.delete('AWSPENDING');
    },
    /** Number of calls of one command so far. */
    calls(command: Parameters<typeof mock.commandCalls>[0]): number {
      return mock.commandCalls(command).length;
    },
  };
}

export type FakeSecretsManager = ReturnType<typeof fakeSecretsManager>;
