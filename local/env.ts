/**
 * Development stand-in configuration: the environment the handlers get when they run locally
 * (in-process behind `local/gateway.ts`, or in tests). Configuration only — the product code has
 * no "if local" branches; locally it differs from AWS only by these values: the SDK's standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables point DynamoDB, Secrets Manager and STS at the local
 * stand-ins, and static credentials satisfy the SDK's signer (the stand-ins accept any).
 *
 * Variable names come from `ENV` in `lib/functions.ts`, the same map the CDK constructs use, so
 * the two cannot drift.
 */
import { ENV } from '../lib/functions.ts';
import { localCredentials } from './dynamodb.ts';

export interface LocalHandlerEnvInput {
  /** DynamoDB Local (`startDynamoLocal().endpoint`). */
  readonly dynamoEndpoint: string;
  /** Local Secrets Manager (`startLocalSecretsManager().endpoint`). */
  readonly secretsManagerEndpoint: string;
  /** Local STS (`startLocalSts().endpoint`). */
  readonly stsEndpoint: string;
  /** Origins allowed to call the API and embed the viewer, e.g. the demo app's origin. */
  readonly allowedOrigins: readonly string[];
  /** cognito-local: the pool the signer looks viewers up in (AdminGetUser), and its endpoint. */
  readonly userPoolId: string;
  readonly cognitoEndpoint: string;
  /** Where the embed viewer is served, e.g. the gateway URL. */
  readonly viewerBaseUrl: string;
  /** Where the viewer page sends its API calls; the viewer's own origin by default (one local gateway serves both). */
  readonly apiBaseUrl?: string;
  /** Stage name used in the default names below; `local` by default. */
  readonly stage?: string;
  readonly controlTableName?: string;
  readonly dataTableName?: string;
  readonly region?: string;
  readonly accountId?: string;
  /** Embed-token `iss` / `aud` (the product's own tokens, not Cognito's). */
  readonly tokenIssuer?: string;
  readonly tokenAudience?: string;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * The environment for every local handler, with the same defaults the CDK config derives from a
 * stage (`lib/config.ts`): token issuer `urn:secure-embed:<stage>`, audience `…:viewer`, secret
 * prefix `embed/signing-keys/<stage>/`.
 */
export function localHandlerEnv(input: LocalHandlerEnvInput): Record<string, string> {
  const stage = input.stage ?? 'local';
  const region = input.region ?? 'us-east-1';
  const account = input.accountId ?? '000000000000';
  const credentials = localCredentials();
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: input.dynamoEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: input.secretsManagerEndpoint,
    AWS_ENDPOINT_URL_STS: input.stsEndpoint,
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: input.cognitoEndpoint,
    [ENV.userPoolId]: input.userPoolId,
    [ENV.controlTableName]: input.controlTableName ?? `secure-embed-${stage}-control`,
    [ENV.dataTableName]: input.dataTableName ?? `secure-embed-${stage}-data`,
    [ENV.signingKeySecretPrefix]: `embed/signing-keys/${stage}/`,
    // The local STS accepts any well-formed role ARN; these name the roles the stack creates.
    [ENV.tenantDataRoleArn]: `arn:aws:iam::${account}:role/secure-embed-${stage}-tenant-data-reader`,
    [ENV.tenantDataWriterRoleArn]: `arn:aws:iam::${account}:role/secure-embed-${stage}-tenant-data-writer`,
    [ENV.rotationLambdaArn]: `arn:aws:lambda:${region}:${account}:function:secure-embed-${stage}-rotate-signing-key`,
    [ENV.tokenIssuer]: input.tokenIssuer ?? `urn:secure-embed:${stage}`,
    [ENV.tokenAudience]: input.tokenAudience ?? `urn:secure-embed:${stage}:viewer`,
    [ENV.viewerBaseUrl]: input.viewerBaseUrl.replace(/\/+$/, ''),
    [ENV.apiBaseUrl]: (input.apiBaseUrl ?? input.viewerBaseUrl).replace(/\/+$/, ''),
    [ENV.allowedOrigins]: input.allowedOrigins.join(','),
    [ENV.serviceName]: `secure-embed-${stage}`,
    [ENV.metricsNamespace]: `SecureEmbed/${stage}`,
    [ENV.logLevel]: input.logLevel ?? 'DEBUG',
  };
}

/**
 * Writes the local environment into `target` (default `process.env`) for handlers that run in
 * this process, and drops variables that would send the SDK elsewhere (a profile, a session
 * token from the developer's shell).
 */
export function applyLocalHandlerEnv(env: Record<string, string>, target: NodeJS.ProcessEnv = process.env): void {
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) delete target[name];
  Object.assign(target, env);
}
