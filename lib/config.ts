/**
 * Stage configuration, read once from CDK context (`cdk.json` or `-c key=value`) and validated
 * before any construct is created, so a typo in an origin or a retention fails the synth instead
 * of deploying something half-configured. Pure: no CDK constructs, only the `RetentionDays` enum.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EMBED_FUNCTION_NAMES, type EmbedFunctionName } from './functions.ts';

export interface StageConfig {
  /** Short stage name (`dev`, `staging`, `prod`); part of every stack name and resource prefix. */
  readonly stage: string;
  /** `prod` keeps data on stack deletion, turns on deletion protection and Cognito threat protection. */
  readonly isProduction: boolean;
  /** Origins of host apps allowed to call the API from a browser (CORS) and to frame the viewer. */
  readonly allowedOrigins: readonly string[];
  /**
   * Base URL of the embed viewer (a custom domain); embed URLs are
   * `<viewerBaseUrl>/embed/<tenantId>/<embedId>#token=…`. Unset: the viewer API's own stage URL.
   */
  readonly viewerBaseUrl?: string;
  /** `iss` of embed tokens. */
  readonly tokenIssuer: string;
  /** `aud` of embed tokens. */
  readonly tokenAudience: string;
  /** Secrets Manager name prefix of the per-tenant signing secrets: `embed/signing-keys/<stage>/`. */
  readonly signingKeySecretPrefix: string;
  /** API Gateway stage throttling (steady requests per second and burst). */
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  /** WAF rate-based rule: requests per client IP per 5-minute window before blocking. */
  readonly wafRateLimitPer5Min: number;
  /** Retention of every log group (Lambda, API access, WAF). */
  readonly logRetention: RetentionDays;
  /** Powertools `LOG_LEVEL` of every function. */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** CloudWatch namespace the handlers publish Powertools metrics to (`POWERTOOLS_METRICS_NAMESPACE`). */
  readonly metricsNamespace: string;
  /** Reserved concurrency per function; absent means the account's unreserved pool (default for small accounts). */
  readonly reservedConcurrency: Readonly<Partial<Record<EmbedFunctionName, number>>>;
  /** Cognito ID/access token validity: the ID token is the API credential, so it is short. */
  readonly idTokenValidityMinutes: number;
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
}

/** Reads a context value; `node.tryGetContext` returns strings for `-c` values and JSON for cdk.json. */
export type ContextReader = (key: string) => unknown;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{1,15}$/;

/** Retention values CloudWatch Logs accepts, in days; anything else is rejected at synth. */
const RETENTION_BY_DAYS: ReadonlyMap<number, RetentionDays> = new Map(
  Object.values(RetentionDays)
    .filter((value): value is RetentionDays => typeof value === 'number' && value !== RetentionDays.INFINITE)
    .map((value) => [value as number, value]),
);

/** Builds and validates the stage configuration from CDK context. Throws with every problem listed. */
export function loadStageConfig(readContext: ContextReader): StageConfig {
  const problems: string[] = [];
  const stage = stringValue(readContext('stage'), 'dev');
  if (!STAGE_PATTERN.test(stage)) problems.push(`stage "${stage}" must match ${STAGE_PATTERN}`);
  const isProduction = stage === 'prod';

  const allowedOrigins = listValue(readContext('allowedOrigins'));
  if (allowedOrigins.length === 0) problems.push('allowedOrigins must list at least one origin');
  for (const origin of allowedOrigins) {
    if (!isOrigin(origin)) problems.push(`allowedOrigins entry "${origin}" is not a scheme://host[:port] origin`);
    // Plain http is only acceptable for a developer's own machine.
    if (isProduction && !origin.startsWith('https://')) problems.push(`prod origin "${origin}" must use https`);
  }

  const viewerBaseUrl = optionalString(readContext('viewerBaseUrl'))?.replace(/\/+$/, '');
  if (viewerBaseUrl !== undefined) {
    if (!isHttpUrl(viewerBaseUrl)) problems.push(`viewerBaseUrl "${viewerBaseUrl}" is not an http(s) URL`);
    if (isProduction && !viewerBaseUrl.startsWith('https://')) problems.push('prod viewerBaseUrl must use https');
  }

  const rateLimit = numberValue(readContext('throttlingRateLimit'), isProduction ? 200 : 50);
  const burstLimit = numberValue(readContext('throttlingBurstLimit'), isProduction ? 400 : 100);
  if (!positiveInteger(rateLimit)) problems.push('throttlingRateLimit must be a positive integer');
  if (!positiveInteger(burstLimit)) problems.push('throttlingBurstLimit must be a positive integer');

  const wafRateLimitPer5Min = numberValue(readContext('wafRateLimitPer5Min'), 2000);
  // AWS WAF accepts 10 … 2,000,000,000 for a rate-based rule.
  if (!positiveInteger(wafRateLimitPer5Min) || wafRateLimitPer5Min < 10) {
    problems.push('wafRateLimitPer5Min must be an integer >= 10');
  }

  const retentionDays = numberValue(readContext('logRetentionDays'), isProduction ? 365 : 30);
  const logRetention = RETENTION_BY_DAYS.get(retentionDays);
  if (logRetention === undefined) problems.push(`logRetentionDays ${retentionDays} is not a CloudWatch Logs retention`);

  const logLevel = stringValue(readContext('logLevel'), isProduction ? 'INFO' : 'DEBUG').toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) problems.push(`logLevel "${logLevel}" is not valid`);

  const reservedConcurrency = objectValue(readContext('reservedConcurrency'));
  for (const [name, value] of Object.entries(reservedConcurrency)) {
    if (!(EMBED_FUNCTION_NAMES as readonly string[]).includes(name)) {
      problems.push(`reservedConcurrency names unknown function "${name}"`);
    }
    if (!positiveInteger(value)) problems.push(`reservedConcurrency.${name} must be a positive integer`);
  }

  const idTokenValidityMinutes = numberValue(readContext('idTokenValidityMinutes'), 15);
  // Cognito's bounds are 5 minutes … 1 day; above an hour the token stops being a short-lived credential.
  if (!positiveInteger(idTokenValidityMinutes) || idTokenValidityMinutes < 5 || idTokenValidityMinutes > 60) {
    problems.push('idTokenValidityMinutes must be an integer in [5, 60]');
  }

  const alarmEmail = optionalString(readContext('alarmEmail'));
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    problems.push(`alarmEmail "${alarmEmail}" is not an e-mail address`);
  }

  if (problems.length > 0) {
    throw new Error(`Invalid CDK context for stage "${stage}":\n  - ${problems.join('\n  - ')}`);
  }

  return Object.freeze({
    stage,
    isProduction,
    allowedOrigins: Object.freeze(allowedOrigins),
    ...(viewerBaseUrl === undefined ? {} : { viewerBaseUrl }),
    tokenIssuer: stringValue(readContext('tokenIssuer'), `urn:secure-embed:${stage}`),
    tokenAudience: stringValue(readContext('tokenAudience'), `urn:secure-embed:${stage}:viewer`),
    signingKeySecretPrefix: `embed/signing-keys/${stage}/`,
    throttling: Object.freeze({ rateLimit, burstLimit }),
    wafRateLimitPer5Min,
    logRetention: logRetention as RetentionDays,
    logLevel: logLevel as StageConfig['logLevel'],
    metricsNamespace: stringValue(readContext('metricsNamespace'), `SecureEmbed/${stage}`),
    reservedConcurrency: Object.freeze(reservedConcurrency as Partial<Record<EmbedFunctionName, number>>),
    idTokenValidityMinutes,
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
  });
}

function optionalString(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const value = String(raw).trim();
  return value === '' ? undefined : value;
}

function stringValue(raw: unknown, fallback: string): string {
  return optionalString(raw) ?? fallback;
}

function numberValue(raw: unknown, fallback: number): number {
  const value = optionalString(raw);
  return value === undefined ? fallback : Number(value);
}

/** `-c allowedOrigins=a,b` arrives as a string, cdk.json as an array (or a JSON string from some shells). */
function listValue(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map((item) => String(item).trim()).filter((item) => item !== '');
  const value = optionalString(raw);
  if (value === undefined) return [];
  if (value.startsWith('[')) return listValue(JSON.parse(value));
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function objectValue(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  const value = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('reservedConcurrency must be an object of function name to number');
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, Number(item)]));
}

function positiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** An origin is exactly scheme://host[:port]: no path, query or trailing slash (CORS compares it byte for byte). */
function isOrigin(value: string): boolean {
  if (!isHttpUrl(value)) return false;
  return new URL(value).origin === value;
}
