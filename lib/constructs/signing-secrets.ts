import { ArnFormat, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface SigningSecretsProps {
  /** Secret name prefix, ending in `/`: each tenant's secret is `<prefix><tenantId>`. */
  readonly prefix: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The convention for per-tenant signing secrets. The secrets themselves are created at tenant
 * onboarding, not by CDK (one per tenant, unknown at deploy time), so this construct owns what
 * must exist beforehand: the name prefix every grant is scoped to, and a customer managed KMS key
 * the onboarding encrypts them with. With that key, reading a private key needs a KMS grant on
 * top of the Secrets Manager one, so a mis-scoped `secretsmanager:GetSecretValue` elsewhere in the
 * account still cannot decrypt it.
 */
export class SigningSecrets extends Construct {
  readonly prefix: string;
  readonly key: kms.Key;
  /** `arn:…:secret:<prefix>*`: secret ARNs end in a random 6-character suffix, hence the wildcard. */
  readonly secretArnPattern: string;
  /** The same pattern as cdk-nag renders it in finding ids (partition as a pseudo parameter). */
  readonly nagSecretArnPattern: string;

  constructor(scope: Construct, id: string, props: SigningSecretsProps) {
    super(scope, id);
    if (!props.prefix.endsWith('/')) throw new Error(`${id}: the signing secret prefix must end with "/"`);
    this.prefix = props.prefix;
    const stack = Stack.of(this);
    this.secretArnPattern = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${props.prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    this.nagSecretArnPattern = `arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${props.prefix}*`;
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the per-tenant embed signing secrets under ${props.prefix}`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
  }

  /** `kms:ViaService` value: the key is only usable through Secrets Manager in this region. */
  get viaService(): string {
    return `secretsmanager.${Stack.of(this).region}.amazonaws.com`;
  }
}
