import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DatasetRepository } from '#control/datasets';
import { RlsRepository } from '#control/rls';
import type { Caller } from '#shared/identity';
import { CONTROL_TABLE, DATA_TABLE } from '../../lib/table-design.ts';
import { createTable } from '../../local/dynamodb.ts';
import { TableGateway } from '#control/table-gateway';

/**
 * Test fixtures shared by the dataset and control tests: a document client on the run's
 * DynamoDB Local, and a pair of freshly created, uniquely named tables per test file so files
 * running in parallel never see each other's items.
 */

export function testDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1' }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

export interface TestTables {
  readonly client: DynamoDBDocumentClient;
  readonly controlTable: string;
  readonly dataTable: string;
  readonly datasets: DatasetRepository;
  readonly rls: RlsRepository;
  readonly control: TableGateway;
  readonly data: TableGateway;
}

/** Creates a uniquely named control table and data table. */
export async function createTestTables(label: string): Promise<TestTables> {
  const client = testDocumentClient();
  const suffix = randomBytes(4).toString('hex');
  const controlTable = `${label}-control-${suffix}`;
  const dataTable = `${label}-data-${suffix}`;
  const raw = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1' });
  await createTable(raw, controlTable, CONTROL_TABLE);
  await createTable(raw, dataTable, DATA_TABLE);
  raw.destroy();
  const control = new TableGateway(client, controlTable);
  return {
    client,
    controlTable,
    dataTable,
    datasets: new DatasetRepository(control),
    rls: new RlsRepository(control),
    control,
    data: new TableGateway(client, dataTable),
  };
}

/** A verified caller as `callerFromClaims` would build it. */
export function viewer(overrides: Partial<Caller> = {}): Caller {
  return {
    sub: 'u-viewer',
    tenantId: 'tenant-a',
    groups: [],
    attributes: {},
    ...overrides,
  };
}

/** A unique id for a dataset, dashboard or tenant-local resource. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
