import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { aliasArgs, ENABLE_RUNTIME_SOURCE_MAPS, LAMBDA_BUNDLE_OPTIONS } from '../bundling.ts';
import type { StageConfig } from '../config.ts';
import { ENV, type FunctionSpec, handlerEntry } from '../functions.ts';
import type { SigningSecrets } from './signing-secrets.ts';
import { CONTROL_TABLE } from '../table-design.ts';
import { indexArns } from './index-arns.ts';
import type { TenantDataRole } from './tenant-data-role.ts';

/**
 * Control-table access: `read` (item reads) or `readWrite` (item reads and writes). Neither
 * includes Scan: every access pattern of the control table is a key lookup or a Query. A `read`
 * function that must write a few item kinds gets `ScopedControlWrite`s instead of `readWrite`.
 */
export type ControlTableAccess = 'read' | 'readWrite';

/**
 * A write limited by partition-key prefix (`dynamodb:LeadingKeys`), so a function that only
 * leaves an audit trail or updates session state cannot rewrite tenants, embeds or keys.
 */
export interface ScopedControlWrite {
  readonly sid: string;
  readonly actions: readonly string[];
  /** `StringLike` pattern every partition key written must match, e.g. `AUDIT#*`. */
  readonly partitionPattern: string;
}

/** Append audit events (`AUDIT#<tenant>` partitions). */
export const AUDIT_APPEND: ScopedControlWrite = Object.freeze({
  sid: 'ControlTableAuditAppend',
  actions: Object.freeze(['dynamodb:PutItem']),
  partitionPattern: 'AUDIT#*',
});

/** Update embed sessions in place (`SESSION#<id>` partitions), e.g. the viewer's editable parameters. */
export const SESSION_UPDATE: ScopedControlWrite = Object.freeze({
  sid: 'ControlTableSessionUpdate',
  actions: Object.freeze(['dynamodb:UpdateItem']),
  partitionPattern: 'SESSION#*',
});

/** `read`: the signer reads private keys. `rotate`: the rotation handler's four Secrets Manager steps. */
export type SigningSecretAccess = 'read' | 'rotate';

export const CONTROL_TABLE_READ_ACTIONS = Object.freeze([
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
]);
export const CONTROL_TABLE_WRITE_ACTIONS = Object.freeze([
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
]);

export const SIGNING_SECRET_ACTIONS: Readonly<Record<SigningSecretAccess, readonly string[]>> = Object.freeze({
  read: Object.freeze(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']),
  rotate: Object.freeze([
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
    'secretsmanager:PutSecretValue',
    'secretsmanager:UpdateSecretVersionStage',
  ]),
});
export const SIGNING_KEY_KMS_ACTIONS: Readonly<Record<SigningSecretAccess, readonly string[]>> = Object.freeze({
  read: Object.freeze(['kms:Decrypt']),
  rotate: Object.freeze(['kms:Decrypt', 'kms:GenerateDataKey']),
});

/**
 * A read limited by partition-key prefix: a function that only looks single items up (the public
 * viewer reads an embed) cannot Query, read sessions, redemptions or the audit log.
 */
export interface ScopedControlRead {
  readonly sid: string;
  readonly actions: readonly string[];
  /** `StringLike` pattern every partition key read must match, e.g. `TENANT#*`. */
  readonly partitionPattern: string;
}

/** Look up single tenant items (`TENANT#<t>` partitions) by key: the viewer page reads its embed. */
export const TENANT_ITEM_LOOKUP: ScopedControlRead = Object.freeze({
  sid: 'ControlTableTenantItemLookup',
  actions: Object.freeze(['dynamodb:GetItem']),
  partitionPattern: 'TENANT#*',
});

export interface EmbedFunctionProps {
  readonly spec: FunctionSpec;
  readonly config: StageConfig;
  /** Extra bundling steps (e.g. copying the viewer bundle next to `index.mjs`); skipped when bundling is. */
  readonly commandHooks?: ICommandHooks;
}

/**
 * A product Lambda function with every default fixed in one place (Node.js 24 on arm64, the shared
 * esbuild options, X-Ray, Powertools environment, its own log group with retention, its own
 * execution role) and `bind*` methods that set an environment variable and the matching IAM grant
 * in the same call, so configuration and permissions cannot drift apart.
 */
export class EmbedFunction extends NodejsFunction {
  /** The execution role, created here (not by Lambda) so it carries no AWS managed policy. */
  readonly executionRole: iam.Role;
  readonly functionLogGroup: logs.LogGroup;
  readonly spec: FunctionSpec;

  constructor(scope: Construct, id: string, props: EmbedFunctionProps) {
    const { spec, config } = props;
    // Created beside the function (a subclass cannot add children before `super`).
    const executionRole = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${spec.name} function (${config.stage})`,
    });
    const functionLogGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: config.logRetention,
      removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const reserved = config.reservedConcurrency[spec.name];

    super(scope, id, {
      description: spec.description,
      entry: handlerEntry(spec.name),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memorySize,
      timeout: Duration.seconds(spec.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      role: executionRole,
      logGroup: functionLogGroup,
      ...(reserved === undefined ? {} : { reservedConcurrentExecutions: reserved }),
      environment: {
        [ENV.serviceName]: spec.name,
        [ENV.metricsNamespace]: config.metricsNamespace,
        [ENV.logLevel]: config.logLevel,
        ...(ENABLE_RUNTIME_SOURCE_MAPS ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      bundling: {
        target: LAMBDA_BUNDLE_OPTIONS.target,
        format: OutputFormat.ESM,
        minify: LAMBDA_BUNDLE_OPTIONS.minify,
        sourceMap: LAMBDA_BUNDLE_OPTIONS.sourceMap,
        sourcesContent: LAMBDA_BUNDLE_OPTIONS.sourcesContent,
        mainFields: [...LAMBDA_BUNDLE_OPTIONS.mainFields],
        banner: LAMBDA_BUNDLE_OPTIONS.banner,
        bundleAwsSDK: true,
        externalModules: [...LAMBDA_BUNDLE_OPTIONS.externalModules],
        esbuildArgs: { ...LAMBDA_BUNDLE_OPTIONS.esbuildArgs, ...aliasArgs(LAMBDA_BUNDLE_OPTIONS.alias) },
        ...(props.commandHooks ? { commandHooks: props.commandHooks } : {}),
      },
    });
    this.executionRole = executionRole;
    this.functionLogGroup = functionLogGroup;
    this.spec = spec;
    // Only this function's own log group: no logs:CreateLogGroup, no account-wide log access.
    functionLogGroup.grantWrite(executionRole);
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the X-Ray statement Lambda adds for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) ' +
        'uses Resource "*": X-Ray supports no resource-level permissions for these actions.',
    });
  }

  /**
   * Sets `CONTROL_TABLE_NAME` and grants item access to the control table and its indexes, plus
   * any writes scoped to partition-key prefixes.
   */
  bindControlTable(table: ITable, mode: ControlTableAccess, scopedWrites: readonly ScopedControlWrite[] = []): this {
    this.addEnvironment(ENV.controlTableName, table.tableName);
    // Named indexes from the shared key design rather than `index/*`: no wildcard to justify.
    const resources = [table.tableArn, ...indexArns(table, CONTROL_TABLE)];
    const read = [...CONTROL_TABLE_READ_ACTIONS];
    if (mode === 'readWrite') {
      this.grantStatement('ControlTableItemReadWrite', [...read, ...CONTROL_TABLE_WRITE_ACTIONS], resources);
    } else {
      this.grantStatement('ControlTableItemRead', read, resources);
    }
    for (const write of scopedWrites) {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: write.sid,
          actions: [...write.actions].sort(),
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [write.partitionPattern] } },
        }),
      );
    }
    return this;
  }

  /**
   * Sets `CONTROL_TABLE_NAME` and grants only the given reads, each limited to partition keys
   * matching its pattern, on the table itself (no index, no Query unless listed).
   */
  bindControlTableReads(table: ITable, reads: readonly ScopedControlRead[]): this {
    this.addEnvironment(ENV.controlTableName, table.tableName);
    for (const read of reads) {
      this.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: read.sid,
          actions: [...read.actions].sort(),
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [read.partitionPattern] } },
        }),
      );
    }
    return this;
  }

  /**
   * Sets `SIGNING_KEY_SECRET_PREFIX` and grants access to the per-tenant signing secrets under it
   * (and to the KMS key they are encrypted with, only through Secrets Manager).
   */
  bindSigningSecrets(secrets: SigningSecrets, access: SigningSecretAccess): this {
    this.addEnvironment(ENV.signingKeySecretPrefix, secrets.prefix);
    this.grantStatement(
      access === 'read' ? 'SigningSecretsRead' : 'SigningSecretsRotate',
      [...SIGNING_SECRET_ACTIONS[access]],
      [secrets.secretArnPattern],
    );
    this.acknowledgeSecretPrefixWildcard(secrets);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: access === 'read' ? 'SigningKeyDecrypt' : 'SigningKeyEncryptDecrypt',
        actions: [...SIGNING_KEY_KMS_ACTIONS[access]],
        resources: [secrets.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': secrets.viaService } },
      }),
    );
    return this;
  }

  /**
   * Sets `SIGNING_KEY_SECRET_PREFIX` and `ROTATION_LAMBDA_ARN` and lets the function start a
   * rotation of a signing secret (`RotateSecret`), without being able to read any key material.
   * Secrets Manager requires `lambda:InvokeFunction` on the rotation function from whoever
   * configures rotation with `RotationLambdaARN`.
   */
  bindRotationTrigger(secrets: SigningSecrets, rotationFunction: lambda.IFunction): this {
    this.addEnvironment(ENV.signingKeySecretPrefix, secrets.prefix);
    this.addEnvironment(ENV.rotationLambdaArn, rotationFunction.functionArn);
    this.grantStatement(
      'SigningSecretsStartRotation',
      ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'],
      [secrets.secretArnPattern],
    );
    this.acknowledgeSecretPrefixWildcard(secrets);
    this.grantStatement('InvokeRotationFunction', ['lambda:InvokeFunction'], [rotationFunction.functionArn]);
    return this;
  }

  /**
   * Sets `USER_POOL_ID` and lets the function look users of the pool up, read-only: by username
   * (`AdminGetUser`: the signer resolves the viewer a token is issued to from the directory, not
   * from the request) or by sub (`ListUsers`: an admin revoking a user's tokens must name a user
   * of its own tenant).
   */
  bindUserPool(userPool: cognito.IUserPool, lookups: ReadonlyArray<'byUsername' | 'bySub'>): this {
    this.addEnvironment(ENV.userPoolId, userPool.userPoolId);
    const actions = [
      ...(lookups.includes('byUsername') ? ['cognito-idp:AdminGetUser'] : []),
      ...(lookups.includes('bySub') ? ['cognito-idp:ListUsers'] : []),
    ];
    this.grantStatement('UserPoolLookup', actions, [userPool.userPoolArn]);
    return this;
  }

  /**
   * Sets `DATA_TABLE_NAME` and `TENANT_DATA_ROLE_ARN` (read role) or `TENANT_DATA_WRITER_ROLE_ARN`
   * (write role) and lets this function assume the role with a `tenant` session tag. The function
   * itself gets no grant on the data table: every data access goes through the tenant-scoped role.
   */
  bindTenantDataRole(tenantRole: TenantDataRole): this {
    this.addEnvironment(ENV.dataTableName, tenantRole.table.tableName);
    this.addEnvironment(
      tenantRole.access === 'read' ? ENV.tenantDataRoleArn : ENV.tenantDataWriterRoleArn,
      tenantRole.role.roleArn,
    );
    tenantRole.grantAssume(this.executionRole);
    return this;
  }

  private acknowledgeSecretPrefixWildcard(secrets: SigningSecrets): void {
    Validations.of(this.executionRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${secrets.nagSecretArnPattern}]`,
      reason:
        'Per-tenant signing secrets are created at onboarding, so their names are unknown at deploy time; the ' +
        `grant is scoped to this stage's name prefix ${secrets.prefix} (plus the random suffix Secrets Manager appends).`,
    });
  }

  private grantStatement(sid: string, actions: string[], resources: string[]): void {
    this.executionRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: actions.sort(), resources }));
  }
}
