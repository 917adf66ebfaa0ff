/**
 * The Lambda functions of the product as plain data: which handler file each one runs and how it
 * is sized. The stacks and the cold-start benchmark both read this, so the benchmark measures
 * exactly the functions that are deployed. No CDK imports.
 */
import { fileURLToPath } from 'node:url';
import type { ApiFunctionName, ViewerFunctionName } from './routes.ts';

/**
 * Every Lambda function: the API functions named by the route table, the public viewer's function
 * (`VIEWER_ROUTES`) and the rotation handler.
 */
export type EmbedFunctionName = ApiFunctionName | ViewerFunctionName | 'rotate-signing-key';

export const EMBED_FUNCTION_NAMES: readonly EmbedFunctionName[] = [
  'embed-tokens',
  'embed-sessions',
  'embed-query',
  'admin',
  'viewer',
  'rotate-signing-key',
];

export interface FunctionSpec {
  readonly name: EmbedFunctionName;
  readonly description: string;
  /** Memory in MB; on Lambda CPU scales with memory, which is what bounds JSON and crypto work here. */
  readonly memorySize: number;
  /** Seconds. API functions stay well below API Gateway's 29 s integration timeout. */
  readonly timeoutSeconds: number;
}

export const FUNCTION_SPECS: Readonly<Record<EmbedFunctionName, FunctionSpec>> = {
  'embed-tokens': {
    name: 'embed-tokens',
    description: 'Signs embed tokens with the tenant private key (the only API function that reads signing secrets)',
    memorySize: 512,
    timeoutSeconds: 10,
  },
  'embed-sessions': {
    name: 'embed-sessions',
    description: 'Redeems embed tokens once and opens or renews embed sessions',
    memorySize: 1024,
    timeoutSeconds: 15,
  },
  'embed-query': {
    name: 'embed-query',
    description: 'Runs the widget queries of an embed session through the tenant-scoped data role',
    memorySize: 1024,
    timeoutSeconds: 20,
  },
  admin: {
    name: 'admin',
    description: 'Tenant administration: datasets, imports, dashboards, embeds, RLS, revocations, audit, rotation',
    memorySize: 1024,
    timeoutSeconds: 28,
  },
  viewer: {
    name: 'viewer',
    description: 'Serves the public embed viewer page (CSP frame-ancestors from the embed) and the viewer bundle',
    memorySize: 256,
    timeoutSeconds: 5,
  },
  'rotate-signing-key': {
    name: 'rotate-signing-key',
    description: 'Secrets Manager rotation handler for per-tenant signing keys; publishes the public key set',
    memorySize: 512,
    timeoutSeconds: 60,
  },
};

/** Absolute path of a function's handler entry: `functions/handlers/<name>.ts`, exporting `handler`. */
export function handlerEntry(name: EmbedFunctionName): string {
  return fileURLToPath(new URL(`../functions/handlers/${name}.ts`, import.meta.url));
}

/** The environment variable names the handlers read (through `functions/shared/config.ts`). */
export const ENV = Object.freeze({
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  logLevel: 'LOG_LEVEL',
  controlTableName: 'CONTROL_TABLE_NAME',
  dataTableName: 'DATA_TABLE_NAME',
  signingKeySecretPrefix: 'SIGNING_KEY_SECRET_PREFIX',
  tenantDataRoleArn: 'TENANT_DATA_ROLE_ARN',
  tenantDataWriterRoleArn: 'TENANT_DATA_WRITER_ROLE_ARN',
  rotationLambdaArn: 'ROTATION_LAMBDA_ARN',
  tokenIssuer: 'TOKEN_ISSUER',
  tokenAudience: 'TOKEN_AUDIENCE',
  viewerBaseUrl: 'VIEWER_BASE_URL',
  allowedOrigins: 'ALLOWED_ORIGINS',
  userPoolId: 'USER_POOL_ID',
  /** Base URL of the authorized API, as the viewer page calls it (`<url>/v1/embed/sessions`). */
  apiBaseUrl: 'API_BASE_URL',
});

/** The alarmed metrics' names and dimension: one module shared with the functions that emit them. */
export { IDENTITY_MISMATCH_METRIC, SERVICE_DIMENSION } from '../functions/shared/metrics.ts';

/**
 * The functions whose shared refusal path (`functions/http/observability.ts`) counts
 * `IdentityMismatch`: every API function, so the alarm sums all of them.
 */
export const IDENTITY_MISMATCH_EMITTERS: readonly EmbedFunctionName[] = [
  'embed-tokens',
  'embed-sessions',
  'embed-query',
  'admin',
];
