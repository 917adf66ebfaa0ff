import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';

export interface AuthStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Cognito group names; they must equal `GROUP_*` in `functions/shared/identity.ts`. */
export const GROUPS = Object.freeze({ tenantAdmins: 'tenant-admins', embedSigners: 'embed-signers' });

/**
 * Identity: the Cognito user pool whose ID tokens are the API credential. Its own stack because a
 * user pool is long-lived state (users, passwords, MFA devices) that must survive redeploys of the
 * API, and because several API stages or apps could share it.
 */
export class AuthStack extends Stack {
  readonly userPool: cognito.UserPool;
  readonly hostAppClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `secure-embed-${config.stage}`,
      // Users are created by tenant onboarding (AdminCreateUser), never by self sign-up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      keepOriginal: { email: true },
      customAttributes: {
        // The tenant boundary: set once at user creation, never changeable, not even by an admin.
        tenant_id: new cognito.StringAttribute({ mutable: false, minLen: 2, maxLen: 63 }),
        // Row-level-security input; changed by admins only (the app client cannot write it).
        region: new cognito.StringAttribute({ mutable: true, minLen: 1, maxLen: 64 }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Threat protection (compromised credentials, adaptive authentication) is a Plus-tier feature.
      featurePlan: config.isProduction ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      ...(config.isProduction
        ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION }
        : {}),
      deletionProtection: config.isProduction,
      removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    new cognito.UserPoolGroup(this, 'TenantAdminsGroup', {
      userPool: this.userPool,
      groupName: GROUPS.tenantAdmins,
      description: 'Administer datasets, dashboards, embeds, RLS, revocations and signing keys of their tenant',
    });
    new cognito.UserPoolGroup(this, 'EmbedSignersGroup', {
      userPool: this.userPool,
      groupName: GROUPS.embedSigners,
      description: 'Host-app service identities allowed to sign embed tokens for viewers of their tenant',
    });

    this.hostAppClient = this.userPool.addClient('HostAppClient', {
      userPoolClientName: `host-app-${config.stage}`,
      // A browser/public client: a secret could not be kept secret.
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      // The ID token is what API Gateway's Cognito authorizer validates; short-lived by design.
      idTokenValidity: Duration.minutes(config.idTokenValidityMinutes),
      accessTokenValidity: Duration.minutes(config.idTokenValidityMinutes),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
        .withCustomAttributes('tenant_id', 'region'),
      // Never the custom attributes: a user who could write `custom:region` could widen their own RLS.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ fullname: true }),
    });

    if (!config.isProduction) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'Non-production stage: Cognito threat protection needs the Plus feature plan, which is enabled on the prod ' +
          'stage only; non-prod pools hold test users created by onboarding scripts.',
      });
    }
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is OPTIONAL by product decision: viewers are end users of each tenant host app, which decides whether to ' +
        `enrol them in TOTP; the API credential is a ${config.idTokenValidityMinutes}-minute ID token and tenant ` +
        'admins are expected to enrol MFA.',
    });

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool id' });
    new CfnOutput(this, 'UserPoolClientId', {
      value: this.hostAppClient.userPoolClientId,
      description: 'App client id for the host app (USER_PASSWORD_AUTH / SRP, no secret)',
    });
  }
}
