import { randomUUID } from 'node:crypto';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { inject } from 'vitest';
import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { EmbedRepository } from '#control/embeds';
import { RlsRepository } from '#control/rls';
import { importDataset } from '#datasets/import';
import { documentClient } from '#shared/clients';
import { createKeySetRepository } from '#keys/key-set';
import { createTenantSigningKey } from '#keys/onboarding';
import { CONTROL_TABLE, DATA_TABLE } from '../../lib/table-design.ts';
import { createTable, localCredentials } from '../../local/dynamodb.ts';
import { startLocalSecretsManager } from '../../local/secrets-manager.ts';
import { startLocalSts } from '../../local/sts.ts';
import { lambdaContext, restEvent, type TestIdentity } from '../fixtures/api-gateway.ts';
import { TableGateway } from '#control/table-gateway';
import { saveDashboard } from '#admin/dashboards';
import { createDataset, putRlsRules } from '#admin/datasets';
import { validateEmbed } from '#admin/embeds';

/**
 * The API handlers exactly as Lambda runs them, against DynamoDB Local, the local Secrets
 * Manager and STS stand-ins, with a two-tenant demo seeded through the domain code. Only the
 * Cognito user directory (AdminGetUser, ListUsers) is mocked.
 */

export const users = {
  alice: { sub: 'a11ce000-0000-4000-8000-000000000001', username: 'alice', tenantId: 'acme', region: 'EU' },
  bob: { sub: 'b0b00000-0000-4000-8000-000000000002', username: 'bob', tenantId: 'acme', region: 'US' },
  signer: {
    sub: '5197e700-0000-4000-8000-000000000003',
    username: 'acme-signer',
    tenantId: 'acme',
    groups: ['embed-signers'],
  },
  admin: {
    sub: 'ad000000-0000-4000-8000-000000000004',
    username: 'acme-admin',
    tenantId: 'acme',
    groups: ['tenant-admins'],
  },
  gina: { sub: '91000000-0000-4000-8000-000000000005', username: 'gina', tenantId: 'globex', region: 'EU' },
  globexSigner: {
    sub: '91500000-0000-4000-8000-000000000006',
    username: 'globex-signer',
    tenantId: 'globex',
    groups: ['embed-signers'],
  },
  globexAdmin: {
    sub: '91ad0000-0000-4000-8000-000000000007',
    username: 'globex-admin',
    tenantId: 'globex',
    groups: ['tenant-admins'],
  },
} satisfies Record<string, TestIdentity>;

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface Harness {
  readonly controlTable: string;
  readonly dataTable: string;
  call(
    fn: 'embed-tokens' | 'embed-sessions' | 'embed-query' | 'admin',
    options: Parameters<typeof restEvent>[0],
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

const SALES_CSV = [
  'date,region,product,revenue,units',
  '2025-01-05,EU,widget,100,1',
  '2025-01-20,EU,gadget,50,2',
  '2025-02-03,EU,widget,70,1',
  '2025-01-07,US,widget,1000,10',
  '2025-03-09,US,gadget,500,5',
  '2025-02-11,APAC,widget,9,9',
].join('\n');

/** Starts the stand-ins, points the handlers' configuration at them, seeds two tenants. */
export async function startHarness(): Promise<Harness> {
  const suffix = randomUUID().slice(0, 8);
  const controlTable = `api-control-${suffix}`;
  const dataTable = `api-data-${suffix}`;
  const raw = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: localCredentials(),
  });
  await createTable(raw, controlTable, CONTROL_TABLE);
  await createTable(raw, dataTable, DATA_TABLE);
  raw.destroy();

  const secretsManager = await startLocalSecretsManager();
  const sts = await startLocalSts();
  Object.assign(process.env, {
    CONTROL_TABLE_NAME: controlTable,
    DATA_TABLE_NAME: dataTable,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_ENDPOINT_URL_STS: sts.endpoint,
    SIGNING_KEY_SECRET_PREFIX: 'embed/signing-keys/test/',
    TOKEN_ISSUER: 'urn:secure-embed:test',
    TOKEN_AUDIENCE: 'urn:secure-embed:test:viewer',
    VIEWER_BASE_URL: 'https://viewer.example.com',
    ALLOWED_ORIGINS: 'https://app.example.com',
    USER_POOL_ID: 'us-east-1_TEST',
    TENANT_DATA_ROLE_ARN: 'arn:aws:iam::123456789012:role/tenant-data-reader',
    TENANT_DATA_WRITER_ROLE_ARN: 'arn:aws:iam::123456789012:role/tenant-data-writer',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_SERVICE_NAME: 'test',
  });

  // The user directory: AdminGetUser answers from the test identities.
  const cognito = mockClient(CognitoIdentityProviderClient);
  cognito.on(AdminGetUserCommand).callsFake(async (input: { Username: string }) => {
    const user = Object.values(users).find((u) => u.username === input.Username);
    if (!user) throw Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' });
    return {
      Username: user.username,
      Enabled: true,
      UserAttributes: [
        { Name: 'sub', Value: user.sub },
        { Name: 'custom:tenant_id', Value: user.tenantId },
      ],
    };
  });

  // ListUsers by `sub = "<sub>"` (the admin's revocation check), as Cognito answers it.
  cognito.on(ListUsersCommand).callsFake(async (input: { Filter?: string }) => {
    const sub = /^sub = "([^"]*)"$/.exec(input.Filter ?? '')?.[1];
    const user = Object.values(users).find((u) => u.sub === sub);
    return {
      Users: user
        ? [
            {
              Username: user.username,
              Enabled: true,
              Attributes: [
                { Name: 'sub', Value: user.sub },
                { Name: 'custom:tenant_id', Value: user.tenantId },
              ],
            },
          ]
        : [],
    };
  });

  await seed(controlTable, dataTable, secretsManager.endpoint);

  const modules = {
    'embed-tokens': (await import('../../functions/handlers/embed-tokens.ts')).handler as Handler,
    'embed-sessions': (await import('../../functions/handlers/embed-sessions.ts')).handler as Handler,
    'embed-query': (await import('../../functions/handlers/embed-query.ts')).handler as Handler,
    admin: (await import('../../functions/handlers/admin.ts')).handler as Handler,
  };

  return {
    controlTable,
    dataTable,
    async call(fn, options) {
      const result = await (modules[fn] as (e: APIGatewayProxyEvent, c: unknown) => Promise<APIGatewayProxyResult>)(
        restEvent(options),
        lambdaContext(fn),
      );
      return {
        status: result.statusCode,
        body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {},
        headers: result.headers ?? {},
      };
    },
    async close() {
      cognito.restore();
      await secretsManager.close();
      await sts.close();
    },
  };
}

async function seed(controlTable: string, dataTable: string, secretsEndpoint: string): Promise<void> {
  const table = new TableGateway(documentClient(), controlTable);
  const datasets = new DatasetRepository(table);
  const dashboards = new DashboardRepository(table);
  const embeds = new EmbedRepository(table);
  const rls = new RlsRepository(table);
  const secrets = new SecretsManagerClient({
    endpoint: secretsEndpoint,
    region: 'us-east-1',
    credentials: localCredentials(),
  });
  const keySets = createKeySetRepository({ table });
  const schema = {
    columns: [
      { name: 'date', type: 'date' },
      { name: 'region', type: 'string' },
      { name: 'product', type: 'string' },
      { name: 'revenue', type: 'number' },
      { name: 'units', type: 'number' },
    ],
    partitionColumn: 'region',
    sortColumn: 'date',
  };
  for (const tenantId of ['acme', 'globex']) {
    await createTenantSigningKey({
      secrets,
      keySets,
      prefix: 'embed/signing-keys/test/',
      tenantId,
      rotationLambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
      schedule: { rotationDays: 30 },
      now: Date.now,
    });
    await createDataset({ datasets }, { tenantId, datasetId: 'sales', name: 'Sales', schema });
    const csv = tenantId === 'acme' ? SALES_CSV : SALES_CSV.replaceAll('widget', 'globex-widget');
    await importDataset(
      { tenantId, datasetId: 'sales', format: 'csv', content: csv },
      { datasets, data: new TableGateway(documentClient(), dataTable) },
    );
    await putRlsRules({ datasets, rls }, tenantId, 'sales', [
      { column: 'region', source: { kind: 'identity', claim: 'custom:region' } },
    ]);
    await saveDashboard(
      { dashboards, datasets },
      {
        tenantId,
        dashboardId: 'overview',
        title: 'Sales overview',
        parameters: [
          { name: 'period', type: 'dateRange', label: 'Period', default: { from: '2025-01-01', to: '2025-12-31' } },
          { name: 'product', type: 'string', allowedValues: ['widget', 'gadget'] },
          { name: 'channel', type: 'string' },
        ],
        widgets: [
          {
            id: 'revenue',
            type: 'number',
            title: 'Revenue',
            datasetId: 'sales',
            query: {
              filters: [{ column: 'date', op: 'between', value: { param: 'period' } }],
              metrics: [{ op: 'sum', column: 'revenue' }],
            },
          },
          {
            id: 'rows',
            type: 'table',
            title: 'Orders',
            datasetId: 'sales',
            query: {
              filters: [
                { column: 'date', op: 'between', value: { param: 'period' } },
                { column: 'product', op: 'eq', value: { param: 'product' } },
              ],
              columns: ['date', 'region', 'product', 'revenue'],
              orderBy: [{ key: 'date', direction: 'asc' }],
            },
          },
        ],
      },
    );
    await embeds.save(
      validateEmbed({
        tenantId,
        embedId: 'sales-embed',
        resource: { type: 'dashboard', id: 'overview' },
        parameterModes: { period: 'editable', product: 'locked' },
        allowedOrigins: ['https://app.example.com'],
        maxTokenLifetimeSeconds: 300,
        enabled: true,
      }),
    );
  }
  secrets.destroy();
}

/** The claims of a token, decoded without verification (tests only). */
export function tokenClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
