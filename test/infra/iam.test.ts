import { beforeAll, describe, expect, it } from 'vitest';
import { rollupKeyspace, rollupPartitionSuffix } from '#datasets/rollups';
import { dataPartitionKey, indexPartitionKey, versionKeyPrefix } from '#datasets/row-keys';
import {
  readable,
  resourcesOfType,
  roleStatements,
  type SynthesizedApp,
  synthesizeApp,
  SYNTH_TIMEOUT_MS,
} from './synth.ts';

/**
 * Exact IAM: a typo in a condition key or an extra action silently widens access, so every
 * statement of every role is stated here in full (references rendered by `readable`).
 */
let synth: SynthesizedApp;
beforeAll(() => {
  synth = synthesizeApp();
}, SYNTH_TIMEOUT_MS);

const SIGNING_SECRETS = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:embed/signing-keys/dev/*';
const VIA_SECRETS_MANAGER = { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } };
const CONTROL_READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const CONTROL_READ_WRITE = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
const AUDIT_APPEND = {
  Sid: 'ControlTableAuditAppend',
  Effect: 'Allow',
  Action: 'dynamodb:PutItem',
  Resource: 'Data:ControlTable.Arn',
  Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
};
const XRAY = { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' };
const logsOf = (logGroup: string) => ({
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Effect: 'Allow',
  Resource: `${logGroup}.Arn`,
});
// A literal IAM policy variable, not a template string.
const TENANT_PREFIX = ['$', '{aws:PrincipalTag/tenant}#*'].join('');
const LEADING_KEYS_EXACT = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TENANT_PREFIX] } };
const DATA_TABLE_AND_INDEXES = ['Data:DataTable.Arn', 'Data:DataTable.Arn/index/gsi1', 'Data:DataTable.Arn/index/gsi2'];
const TRUST_CONDITIONS = {
  Null: { 'aws:RequestTag/tenant': 'false' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': ['tenant'] },
};

function role(logicalIdPrefix: string) {
  const roles = resourcesOfType(synth.templates.api, 'AWS::IAM::Role');
  const entry = Object.entries(roles).find(([id]) => id.replace(/[0-9A-F]{8}$/, '') === logicalIdPrefix);
  if (!entry) throw new Error(`no role ${logicalIdPrefix}`);
  return readable(entry[1].Properties) as {
    AssumeRolePolicyDocument: { Statement: unknown[] };
    Policies?: Array<{ PolicyName: string; PolicyDocument: { Statement: unknown[] } }>;
    ManagedPolicyArns?: unknown;
  };
}

/** Every identity-policy statement of every role in the app, with the role it belongs to. */
function allStatements(): Array<{ role: string; statement: { Action: string | string[]; Resource: unknown } }> {
  const found: Array<{ role: string; statement: { Action: string | string[]; Resource: unknown } }> = [];
  for (const template of Object.values(synth.templates)) {
    for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      const { Roles, PolicyDocument } = readable(policy.Properties) as {
        Roles: string[];
        PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
      };
      for (const statement of PolicyDocument.Statement) {
        for (const roleName of Roles) found.push({ role: roleName, statement });
      }
    }
    for (const [id, iamRole] of Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))) {
      const { Policies } = readable(iamRole.Properties) as {
        Policies?: Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } }>;
      };
      for (const policy of Policies ?? []) {
        for (const statement of policy.PolicyDocument.Statement)
          found.push({ role: id.replace(/[0-9A-F]{8}$/, ''), statement });
      }
    }
  }
  return found;
}

const actionsOf = (statement: { Action: string | string[] }): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

describe('tenant-scoped data roles', () => {
  it('the reader role allows only GetItem/BatchGetItem/Query on the data table and its indexes, under the exact LeadingKeys condition', () => {
    // Act
    const reader = role('TenantDataReaderRole');

    // Assess
    expect(reader.Policies).toEqual([
      {
        PolicyName: 'TenantScopedData',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TenantScopedItemReads',
              Effect: 'Allow',
              Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
              Resource: DATA_TABLE_AND_INDEXES,
              Condition: LEADING_KEYS_EXACT,
            },
          ],
        },
      },
    ]);
    expect(reader.ManagedPolicyArns).toBeUndefined();
  });

  it("every data-table key the engine builds (rows, index keys, rollup items) falls under the tenant's LeadingKeys pattern, and no other tenant's", () => {
    // Prepare: the pattern as IAM evaluates it for tenant acme (StringLike: `*` is any run).
    const pattern = TENANT_PREFIX.replace(['$', '{aws:PrincipalTag/tenant}'].join(''), 'acme');
    expect(pattern).toBe('acme#*');
    const admitted = (key: string) => key.startsWith(pattern.slice(0, -1));
    const schema = {
      columns: [
        { name: 'region', type: 'string' as const },
        { name: 'date', type: 'date' as const },
      ],
      partitionColumn: 'region',
      sortColumn: 'date',
      indexes: [{ partitionColumn: 'date' }],
    };
    const prefix = versionKeyPrefix('acme', 'sales', 'v3');
    const rollup = { id: 'region-day', dimensions: ['region'], measures: [], generation: 2 };
    // Act
    const keys = [
      dataPartitionKey(schema, prefix, 'EU'),
      indexPartitionKey(schema, prefix, 1, '2025-01-01T00:00:00.000Z'),
      prefix + rollupPartitionSuffix(schema, rollup, 'EU'),
      prefix + rollupPartitionSuffix(schema, rollup, null),
    ];
    // Assess
    for (const key of keys) expect(admitted(key), key).toBe(true);
    expect(admitted(versionKeyPrefix('acme-evil', 'sales', 'v3') + rollupKeyspace(rollup))).toBe(false);
  });

  it('the reader role is trusted only by the query execution role, and only with a tenant session tag', () => {
    expect(role('TenantDataReaderRole').AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Principal: { AWS: 'EmbedQueryFunctionRole.Arn' },
        Condition: TRUST_CONDITIONS,
      },
    ]);
  });

  it('the writer role adds item writes (still no Scan), under the same condition, trusted only by admin', () => {
    const writer = role('TenantDataWriterRole');

    expect(writer.Policies?.[0]?.PolicyDocument.Statement).toEqual([
      {
        Sid: 'TenantScopedItemReadsAndWrites',
        Effect: 'Allow',
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: DATA_TABLE_AND_INDEXES,
        Condition: LEADING_KEYS_EXACT,
      },
    ]);
    expect(writer.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Principal: { AWS: 'AdminFunctionRole.Arn' },
        Condition: TRUST_CONDITIONS,
      },
    ]);
  });

  it('no role anywhere in the app may Scan, and only the tenant-scoped roles may touch the data table', () => {
    // Act
    const statements = allStatements();

    // Assess
    const scans = statements.filter(({ statement }) =>
      actionsOf(statement).some((action) => action === 'dynamodb:Scan' || action === 'dynamodb:*' || action === '*'),
    );
    expect(scans).toEqual([]);
    const dataTableGrants = statements
      .filter(({ statement }) => JSON.stringify(statement.Resource).includes('DataTable'))
      .map(({ role: roleName }) => roleName);
    expect([...new Set(dataTableGrants)].sort()).toEqual(['TenantDataReaderRole', 'TenantDataWriterRole']);
  });
});

describe('function execution roles (exact statements)', () => {
  it('embed-tokens (the signer) reads signing secrets and the control table, appends audit items, looks up users', () => {
    expect(roleStatements(synth.templates.api, 'EmbedTokensFunctionRole')).toEqual([
      XRAY,
      logsOf('EmbedTokensFunctionLogGroup'),
      {
        Sid: 'SigningSecretsRead',
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: SIGNING_SECRETS,
      },
      {
        Sid: 'SigningKeyDecrypt',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'Data:SigningSecretsKey.Arn',
        Condition: VIA_SECRETS_MANAGER,
      },
      {
        Sid: 'ControlTableItemRead',
        Effect: 'Allow',
        Action: CONTROL_READ,
        Resource: ['Data:ControlTable.Arn', 'Data:ControlTable.Arn/index/gsi1'],
      },
      AUDIT_APPEND,
      {
        Sid: 'UserPoolLookup',
        Effect: 'Allow',
        Action: 'cognito-idp:AdminGetUser',
        Resource: 'Auth:UserPool.Arn',
      },
    ]);
  });

  it('embed-sessions (a validator) has control-table read/write only: no data, secret or KMS access', () => {
    expect(roleStatements(synth.templates.api, 'EmbedSessionsFunctionRole')).toEqual([
      XRAY,
      logsOf('EmbedSessionsFunctionLogGroup'),
      {
        Sid: 'ControlTableItemReadWrite',
        Effect: 'Allow',
        Action: CONTROL_READ_WRITE,
        Resource: ['Data:ControlTable.Arn', 'Data:ControlTable.Arn/index/gsi1'],
      },
    ]);
  });

  it('embed-query reads the control table, writes only audit items and session state, assumes the reader role, no data-table or secret grant', () => {
    expect(roleStatements(synth.templates.api, 'EmbedQueryFunctionRole')).toEqual([
      XRAY,
      logsOf('EmbedQueryFunctionLogGroup'),
      {
        Sid: 'ControlTableItemRead',
        Effect: 'Allow',
        Action: CONTROL_READ,
        Resource: ['Data:ControlTable.Arn', 'Data:ControlTable.Arn/index/gsi1'],
      },
      AUDIT_APPEND,
      {
        Sid: 'ControlTableSessionUpdate',
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: 'Data:ControlTable.Arn',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SESSION#*'] } },
      },
      {
        Sid: 'AssumeTenantDataReader',
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: 'TenantDataReaderRole.Arn',
      },
    ]);
  });

  it('admin writes the control table, starts rotations without reading keys, finds users by sub, and writes data only through its writer role', () => {
    expect(roleStatements(synth.templates.api, 'AdminFunctionRole')).toEqual([
      XRAY,
      logsOf('AdminFunctionLogGroup'),
      {
        Sid: 'ControlTableItemReadWrite',
        Effect: 'Allow',
        Action: CONTROL_READ_WRITE,
        Resource: ['Data:ControlTable.Arn', 'Data:ControlTable.Arn/index/gsi1'],
      },
      {
        Sid: 'SigningSecretsStartRotation',
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'],
        Resource: SIGNING_SECRETS,
      },
      {
        Sid: 'InvokeRotationFunction',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: 'Data:RotateSigningKeyFunction.Arn',
      },
      {
        Sid: 'UserPoolLookup',
        Effect: 'Allow',
        Action: 'cognito-idp:ListUsers',
        Resource: 'Auth:UserPool.Arn',
      },
      {
        Sid: 'AssumeTenantDataWriter',
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: 'TenantDataWriterRole.Arn',
      },
    ]);
  });

  it('rotate-signing-key runs the four rotation steps on the prefix and publishes public keys to the control table', () => {
    expect(roleStatements(synth.templates.data, 'RotateSigningKeyFunctionRole')).toEqual([
      XRAY,
      logsOf('RotateSigningKeyFunctionLogGroup'),
      {
        Sid: 'SigningSecretsRotate',
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: SIGNING_SECRETS,
      },
      {
        Sid: 'SigningKeyEncryptDecrypt',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: 'SigningSecretsKey.Arn',
        Condition: VIA_SECRETS_MANAGER,
      },
      {
        Sid: 'ControlTableItemReadWrite',
        Effect: 'Allow',
        Action: CONTROL_READ_WRITE,
        Resource: ['ControlTable.Arn', 'ControlTable.Arn/index/gsi1'],
      },
    ]);
  });

  it('viewer (public) only looks single tenant items up: GetItem on TENANT# partitions, no index, write, data, secret or KMS access', () => {
    // Exact: anything beyond these three statements (a write, a Query, the data table, a secret) fails here.
    expect(roleStatements(synth.templates.api, 'ViewerFunctionRole')).toEqual([
      XRAY,
      logsOf('ViewerFunctionLogGroup'),
      {
        Sid: 'ControlTableTenantItemLookup',
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: 'Data:ControlTable.Arn',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*'] } },
      },
    ]);
    // No tenant data role trusts it.
    for (const [id, resource] of Object.entries(resourcesOfType(synth.templates.api, 'AWS::IAM::Role'))) {
      if (!id.startsWith('TenantData')) continue;
      expect(JSON.stringify(readable(resource.Properties.AssumeRolePolicyDocument)), id).not.toContain(
        'ViewerFunction',
      );
    }
  });

  it('function roles are assumable only by Lambda and carry no managed policies', () => {
    for (const name of ['EmbedTokens', 'EmbedSessions', 'EmbedQuery', 'Admin', 'Viewer']) {
      const executionRole = role(`${name}FunctionRole`);
      expect(executionRole.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      expect(executionRole.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('signing secrets', () => {
  it('only the signer and the rotation handler can read secret values or decrypt with the signing key', () => {
    // Act
    const statements = allStatements();
    const rolesWith = (action: string) =>
      [
        ...new Set(statements.filter(({ statement }) => actionsOf(statement).includes(action)).map((s) => s.role)),
      ].sort();

    // Assess
    expect(rolesWith('secretsmanager:GetSecretValue')).toEqual([
      'EmbedTokensFunctionRole',
      'RotateSigningKeyFunctionRole',
    ]);
    expect(rolesWith('kms:Decrypt')).toEqual(['EmbedTokensFunctionRole', 'RotateSigningKeyFunctionRole']);
    expect(rolesWith('secretsmanager:PutSecretValue')).toEqual(['RotateSigningKeyFunctionRole']);
    expect(rolesWith('secretsmanager:RotateSecret')).toEqual(['AdminFunctionRole']);
    // The validators: no Secrets Manager or KMS action at all.
    for (const validator of ['EmbedSessionsFunctionRole', 'EmbedQueryFunctionRole', 'ViewerFunctionRole']) {
      const actions = statements.filter((s) => s.role === validator).flatMap((s) => actionsOf(s.statement));
      expect(actions.filter((action) => action.startsWith('secretsmanager:') || action.startsWith('kms:'))).toEqual([]);
    }
  });

  it('Secrets Manager may invoke the rotation function only for this account and the signing-secret prefix', () => {
    expect(readable(synth.templates.data.findResources('AWS::Lambda::Permission'))).toEqual({
      [Object.keys(synth.templates.data.findResources('AWS::Lambda::Permission'))[0] as string]: {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          Action: 'lambda:InvokeFunction',
          FunctionName: 'RotateSigningKeyFunction.Arn',
          Principal: 'secretsmanager.amazonaws.com',
          SourceAccount: '111122223333',
          SourceArn: SIGNING_SECRETS,
        },
      },
    });
  });
});
