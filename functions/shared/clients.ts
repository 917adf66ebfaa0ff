import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';

/**
 * AWS clients, created once per container on first use. Endpoints come from the SDK's own
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, so local runs differ only by configuration.
 */
let dynamo: DynamoDBDocumentClient | undefined;
let secrets: SecretsManagerClient | undefined;
let sts: STSClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function secretsManagerClient(): SecretsManagerClient {
  secrets ??= new SecretsManagerClient({});
  return secrets;
}

export function stsClient(): STSClient {
  sts ??= new STSClient({});
  return sts;
}
