import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TableGateway } from '../functions/control/table-gateway.ts';
import { CONTROL_TABLE, DATA_TABLE } from '../lib/table-design.ts';
import { createTable, localCredentials, startDynamoLocal } from '../local/dynamodb.ts';

/**
 * What a data benchmark runs on: its own DynamoDB Local (so no other work shares the JVM), a
 * control and a data table created from the shared key design, and the gateways over them.
 * `stop()` releases the client and the JVM.
 */
export async function startBenchTables(prefix: string): Promise<{
  readonly control: TableGateway;
  readonly data: TableGateway;
  stop(): Promise<void>;
}> {
  const dynamo = await startDynamoLocal();
  const raw = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: localCredentials(),
    maxAttempts: 10,
  });
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  try {
    await createTable(raw, `${prefix}-control`, CONTROL_TABLE);
    await createTable(raw, `${prefix}-data`, DATA_TABLE);
  } catch (error) {
    client.destroy();
    await dynamo.stop();
    throw error;
  }
  return {
    control: new TableGateway(client, `${prefix}-control`),
    data: new TableGateway(client, `${prefix}-data`),
    async stop() {
      client.destroy();
      await dynamo.stop();
    },
  };
}
