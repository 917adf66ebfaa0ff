import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_SPECS } from '../../lib/functions.ts';
import { CONTROL_TABLE, DATA_TABLE, type KeyDesign } from '../../lib/table-design.ts';
import { readable, resourcesOfType, type SynthesizedApp, synthesizeApp, SYNTH_TIMEOUT_MS } from './synth.ts';

type Props = Record<string, unknown>;

let dev: SynthesizedApp;
let prod: SynthesizedApp;
beforeAll(() => {
  dev = synthesizeApp();
  prod = synthesizeApp({
    stage: 'prod',
    allowedOrigins: 'https://app.example.com',
    viewerBaseUrl: 'https://embed.example.com',
    reservedConcurrency: { 'embed-query': 40, 'embed-sessions': 20 },
    alarmEmail: 'oncall@example.com',
  });
}, SYNTH_TIMEOUT_MS);

function table(template: Template, idPrefix: string): { DeletionPolicy: string; Properties: Props } {
  const entry = Object.entries(template.findResources('AWS::DynamoDB::Table')).find(([id]) => id.startsWith(idPrefix));
  if (!entry) throw new Error(`no table ${idPrefix}`);
  return entry[1] as { DeletionPolicy: string; Properties: Props };
}

function keySchemaOf(design: KeyDesign) {
  return [
    { AttributeName: design.partitionKey, KeyType: 'HASH' },
    { AttributeName: design.sortKey, KeyType: 'RANGE' },
  ];
}

describe('tables', () => {
  it.each([
    ['ControlTable', CONTROL_TABLE],
    ['DataTable', DATA_TABLE],
  ] as const)('%s follows the shared key design, on demand, with PITR and encryption', (id, design) => {
    // Act
    const { Properties } = table(dev.templates.data, id);

    // Assess
    expect(Properties.KeySchema).toEqual(keySchemaOf(design));
    expect(Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(
      (Properties.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>).map(
        (index) => ({ name: index.IndexName, keys: index.KeySchema, projection: index.Projection }),
      ),
    ).toEqual(
      design.globalIndexes.map((index) => ({
        name: index.name,
        keys: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        projection: { ProjectionType: 'ALL' },
      })),
    );
  });

  it('TTL is on the control table only, on the designed attribute', () => {
    expect(table(dev.templates.data, 'ControlTable').Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'ttl',
      Enabled: true,
    });
    expect(table(dev.templates.data, 'DataTable').Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('prod retains both tables with deletion protection; dev can be torn down', () => {
    for (const id of ['ControlTable', 'DataTable']) {
      expect(table(prod.templates.data, id).DeletionPolicy).toBe('Retain');
      expect(table(prod.templates.data, id).Properties.DeletionProtectionEnabled).toBe(true);
      expect(table(dev.templates.data, id).DeletionPolicy).toBe('Delete');
    }
  });

  it('the signing-secret KMS key rotates', () => {
    dev.templates.data.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('Cognito', () => {
  it('user pool: immutable tenant id, mutable region, strong passwords, no self sign-up, optional TOTP MFA', () => {
    const [pool] = Object.values(resourcesOfType(dev.templates.auth, 'AWS::Cognito::UserPool'));
    const properties = pool?.Properties as Props;

    expect(properties.Schema).toEqual([
      {
        AttributeDataType: 'String',
        Mutable: false,
        Name: 'tenant_id',
        StringAttributeConstraints: { MaxLength: '63', MinLength: '2' },
      },
      {
        AttributeDataType: 'String',
        Mutable: true,
        Name: 'region',
        StringAttributeConstraints: { MaxLength: '64', MinLength: '1' },
      },
    ]);
    expect(properties.Policies).toEqual({
      PasswordPolicy: {
        MinimumLength: 12,
        RequireLowercase: true,
        RequireUppercase: true,
        RequireNumbers: true,
        RequireSymbols: true,
        TemporaryPasswordValidityDays: 3,
      },
    });
    expect(properties.AdminCreateUserConfig).toEqual({ AllowAdminCreateUserOnly: true });
    expect(properties.MfaConfiguration).toBe('OPTIONAL');
    expect(properties.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
  });

  it('prod turns on threat protection (Plus plan, enforced) and deletion protection', () => {
    prod.templates.auth.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
  });

  it('creates the tenant-admins and embed-signers groups', () => {
    const groups = Object.values(resourcesOfType(dev.templates.auth, 'AWS::Cognito::UserPoolGroup')).map(
      (group) => group.Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['embed-signers', 'tenant-admins']);
  });

  it('host-app client: SRP and password auth, no secret, short tokens, cannot write custom attributes', () => {
    const [client] = Object.values(resourcesOfType(dev.templates.auth, 'AWS::Cognito::UserPoolClient'));
    const properties = client?.Properties as Props;

    expect(properties.GenerateSecret).toBe(false);
    expect(properties.ExplicitAuthFlows).toEqual([
      'ALLOW_USER_PASSWORD_AUTH',
      'ALLOW_USER_SRP_AUTH',
      'ALLOW_REFRESH_TOKEN_AUTH',
    ]);
    expect(properties.IdTokenValidity).toBe(15);
    expect(properties.TokenValidityUnits).toMatchObject({ IdToken: 'minutes' });
    expect(properties.WriteAttributes).toEqual(['name']);
    expect(properties.ReadAttributes).toEqual(expect.arrayContaining(['custom:tenant_id', 'custom:region', 'email']));
    expect(properties.PreventUserExistenceErrors).toBe('ENABLED');
  });

  it('exports pool id, client id and API URL', () => {
    const authOutputs = Object.keys(dev.templates.auth.findOutputs('*')).filter(
      (id) => !id.startsWith('ExportsOutput'),
    );
    expect(authOutputs.sort()).toEqual(['UserPoolClientId', 'UserPoolId']);
    expect(Object.keys(dev.templates.api.findOutputs('*'))).toContain('ApiUrl');
  });
});

describe('functions', () => {
  const ALL = ['EmbedTokensFunction', 'EmbedSessionsFunction', 'EmbedQueryFunction', 'AdminFunction', 'ViewerFunction'];

  function functions(app: SynthesizedApp) {
    return [
      ...Object.entries(resourcesOfType(app.templates.api, 'AWS::Lambda::Function')),
      ...Object.entries(resourcesOfType(app.templates.data, 'AWS::Lambda::Function')),
    ].map(([id, fn]) => ({ id: id.replace(/[0-9A-F]{8}$/, ''), properties: readable(fn.Properties) as Props }));
  }

  it('every function: Node.js 24 on arm64, ESM bundle handler, active tracing, sized from its spec', () => {
    const found = functions(dev);
    expect(found.map((fn) => fn.id).sort()).toEqual([...ALL, 'RotateSigningKeyFunction'].sort());
    for (const fn of found) {
      const spec = Object.values(FUNCTION_SPECS).find((s) => s.description === fn.properties.Description);
      expect(spec, fn.id).toBeDefined();
      expect(fn.properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        MemorySize: spec?.memorySize,
        Timeout: spec?.timeoutSeconds,
        Role: `${fn.id}Role.Arn`,
        LoggingConfig: { LogGroup: `${fn.id}LogGroup` },
      });
    }
  });

  it("every function's log group has the stage retention (and prod keeps logs on deletion)", () => {
    for (const [app, days, policy] of [
      [dev, 30, 'Delete'],
      [prod, 365, 'Retain'],
    ] as const) {
      for (const fn of functions(app)) {
        const template = fn.id === 'RotateSigningKeyFunction' ? app.templates.data : app.templates.api;
        const [, logGroup] = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(
          ([id]) => id.replace(/[0-9A-F]{8}$/, '') === `${fn.id}LogGroup`,
        ) as [string, { DeletionPolicy: string; Properties: Props }];
        expect(logGroup.Properties.RetentionInDays, fn.id).toBe(days);
        expect(logGroup.DeletionPolicy, fn.id).toBe(policy);
      }
    }
  });

  it('sets exactly the environment each handler needs', () => {
    const environment = Object.fromEntries(
      functions(dev).map((fn) => [
        fn.id,
        Object.keys((fn.properties.Environment as { Variables: Props }).Variables).sort(),
      ]),
    );
    const powertools = ['LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
    const withCommon = (...names: string[]) => [...powertools, ...names].sort();
    expect(environment).toEqual({
      EmbedTokensFunction: withCommon(
        'ALLOWED_ORIGINS',
        'CONTROL_TABLE_NAME',
        'SIGNING_KEY_SECRET_PREFIX',
        'TOKEN_AUDIENCE',
        'TOKEN_ISSUER',
        'USER_POOL_ID',
        'VIEWER_BASE_URL',
      ),
      EmbedSessionsFunction: withCommon('ALLOWED_ORIGINS', 'CONTROL_TABLE_NAME', 'TOKEN_AUDIENCE', 'TOKEN_ISSUER'),
      EmbedQueryFunction: withCommon(
        'ALLOWED_ORIGINS',
        'CONTROL_TABLE_NAME',
        'DATA_TABLE_NAME',
        'TENANT_DATA_ROLE_ARN',
      ),
      AdminFunction: withCommon(
        'ALLOWED_ORIGINS',
        'CONTROL_TABLE_NAME',
        'DATA_TABLE_NAME',
        'ROTATION_LAMBDA_ARN',
        'SIGNING_KEY_SECRET_PREFIX',
        'TENANT_DATA_WRITER_ROLE_ARN',
        'USER_POOL_ID',
      ),
      // Public viewer: no origins list (it serves no CORS), no data, no secrets.
      ViewerFunction: withCommon('API_BASE_URL', 'CONTROL_TABLE_NAME', 'VIEWER_BASE_URL'),
      RotateSigningKeyFunction: withCommon(
        'CONTROL_TABLE_NAME',
        'SIGNING_KEY_SECRET_PREFIX',
        'TOKEN_AUDIENCE',
        'TOKEN_ISSUER',
      ),
    });
    const tokens = functions(dev).find((fn) => fn.id === 'EmbedTokensFunction');
    if (!tokens) throw new Error('no embed-tokens function');
    expect((tokens.properties.Environment as { Variables: Props }).Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'embed-tokens',
      POWERTOOLS_METRICS_NAMESPACE: 'SecureEmbed/dev',
      SIGNING_KEY_SECRET_PREFIX: 'embed/signing-keys/dev/',
      CONTROL_TABLE_NAME: 'Data:ControlTable',
    });
  });

  it('reserved concurrency comes from the stage configuration', () => {
    const reserved = Object.fromEntries(
      functions(prod).map((fn) => [fn.id, fn.properties.ReservedConcurrentExecutions]),
    );
    expect(reserved).toEqual({
      EmbedTokensFunction: undefined,
      EmbedSessionsFunction: 20,
      EmbedQueryFunction: 40,
      AdminFunction: undefined,
      RotateSigningKeyFunction: undefined,
    });
  });
});

describe('alarms', () => {
  it('alarm on API 5xx, on errors and throttles of every function, and on identity-mismatch spikes', () => {
    const alarms = Object.values(resourcesOfType(dev.templates.api, 'AWS::CloudWatch::Alarm')).map(
      (alarm) => readable(alarm.Properties) as Props,
    );
    const byMetric = (name: string) => alarms.filter((alarm) => alarm.MetricName === name);

    expect(byMetric('5XXError')).toHaveLength(1);
    expect(byMetric('Errors')).toHaveLength(6);
    expect(byMetric('Throttles')).toHaveLength(6);
    const mismatch = alarms.find((alarm) => Array.isArray(alarm.Metrics));
    expect(mismatch?.Metrics).toEqual([
      {
        Expression: 'FILL(m0, 0) + FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0)',
        Id: 'expr_1',
        Label: 'Identity mismatches (all services)',
        ReturnData: true,
      },
      ...['embed-tokens', 'embed-sessions', 'embed-query', 'admin'].map((service, index) => ({
        Id: `m${index}`,
        MetricStat: {
          Metric: {
            Namespace: 'SecureEmbed/dev',
            MetricName: 'IdentityMismatch',
            Dimensions: [{ Name: 'service', Value: service }],
          },
          Period: 300,
          Stat: 'Sum',
        },
        ReturnData: false,
      })),
    ]);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual(['AlarmsTopic']);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('the alarm topic is KMS-encrypted and refuses non-TLS publishing', () => {
    dev.templates.api.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: {} });
    const [policy] = Object.values(resourcesOfType(dev.templates.api, 'AWS::SNS::TopicPolicy'));
    expect(JSON.stringify(policy?.Properties)).toContain('"aws:SecureTransport":"false"');
    prod.templates.api.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});
