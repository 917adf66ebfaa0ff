import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { CONTROL_TABLE, DATA_TABLE } from '../lib/table-design.ts';
import { createTable, localCredentials, startDynamoLocal } from '../local/dynamodb.ts';

/**
 * One DynamoDB Local (in memory, free port) for the whole run. Tests get its endpoint through
 * `inject('dynamoEndpoint')` and create their own uniquely named tables, or use the shared
 * control/data tables named below.
 */
export default async function setup(project: TestProject) {
  // The JVM competes with the whole suite for CPU: 3 minutes, unless DYNAMODB_LOCAL_START_TIMEOUT_MS says otherwise.
  const dynamo = await startDynamoLocal(process.env.DYNAMODB_LOCAL_START_TIMEOUT_MS ? {} : { startTimeoutMs: 180_000 });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: localCredentials(),
  });
  await createTable(client, 'test-control', CONTROL_TABLE);
  await createTable(client, 'test-data', DATA_TABLE);
  client.destroy();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
