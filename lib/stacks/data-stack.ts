import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';
import { EmbedFunction } from '../constructs/embed-function.ts';
import { SigningSecrets } from '../constructs/signing-secrets.ts';
import { ENV, FUNCTION_SPECS } from '../functions.ts';
import { CONTROL_TABLE, DATA_TABLE, type KeyDesign } from '../table-design.ts';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

/**
 * State: the control and data tables, the signing-secret convention (prefix and KMS key) and the
 * rotation handler that maintains those secrets. Kept apart from the API so the API stack can be
 * replaced or torn down without touching tenant data, and so a prod stack can RETAIN it.
 */
export class DataStack extends Stack {
  readonly controlTable: dynamodb.Table;
  readonly dataTable: dynamodb.Table;
  readonly signingSecrets: SigningSecrets;
  readonly rotationFunction: EmbedFunction;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.controlTable = createTable(this, 'ControlTable', CONTROL_TABLE, config, removalPolicy);
    this.dataTable = createTable(this, 'DataTable', DATA_TABLE, config, removalPolicy);
    this.signingSecrets = new SigningSecrets(this, 'SigningSecrets', {
      prefix: config.signingKeySecretPrefix,
      removalPolicy,
    });

    this.rotationFunction = new EmbedFunction(this, 'RotateSigningKeyFunction', {
      spec: FUNCTION_SPECS['rotate-signing-key'],
      config,
    })
      .bindSigningSecrets(this.signingSecrets, 'rotate')
      // Publishes the public key set (`TENANT#<t>` / `SIGNING_KEYS`) that validators read.
      .bindControlTable(this.controlTable, 'readWrite');
    // The rotation's own test step signs and verifies a token with the pending key.
    this.rotationFunction.addEnvironment(ENV.tokenIssuer, config.tokenIssuer);
    this.rotationFunction.addEnvironment(ENV.tokenAudience, config.tokenAudience);

    // Secrets Manager invokes the rotation handler; only for secrets of this account and prefix
    // (confused-deputy protection: another account's secret cannot point its rotation here).
    this.rotationFunction.addPermission('SecretsManagerInvoke', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: this.account,
      sourceArn: this.signingSecrets.secretArnPattern,
    });

    new CfnOutput(this, 'ControlTableName', { value: this.controlTable.tableName });
    new CfnOutput(this, 'DataTableName', { value: this.dataTable.tableName });
    new CfnOutput(this, 'SigningKeySecretPrefix', {
      value: this.signingSecrets.prefix,
      description: 'Name prefix of the per-tenant signing secrets (created by tenant onboarding)',
    });
    new CfnOutput(this, 'SigningKeyKmsKeyArn', {
      value: this.signingSecrets.key.keyArn,
      description: 'KMS key that tenant onboarding must encrypt signing secrets with (--kms-key-id)',
    });
    new CfnOutput(this, 'RotationFunctionArn', {
      value: this.rotationFunction.functionArn,
      description: 'Rotation Lambda that tenant onboarding configures on each signing secret',
    });
  }
}

/** A table from the shared key design: on-demand, encrypted, point-in-time recovery, TTL where designed. */
function createTable(
  scope: Construct,
  id: string,
  design: KeyDesign,
  config: StageConfig,
  removalPolicy: RemovalPolicy,
): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: design.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: design.sortKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    // AWS managed key: encrypted at rest with a key whose use is logged in CloudTrail, without
    // a key policy that every tenant-scoped session would also have to be granted.
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: config.isProduction,
    removalPolicy,
    ...(design.ttlAttribute === undefined ? {} : { timeToLiveAttribute: design.ttlAttribute }),
  });
  for (const index of design.globalIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
  return table;
}
