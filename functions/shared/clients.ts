import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * AWS clients, created once per container on first use, each with timeouts and retries set on
 * purpose. Endpoints come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables, so local runs
 * differ only by configuration.
 *
 * The budget: API Gateway gives up after 29 s and our API functions time out at 10–28 s. A hung
 * dependency must become a clean 503 well before that, so no call may wait on a silent socket for
 * long: every client has a connection timeout (TCP connect, TLS) and a request timeout (no byte
 * back for that long), and a small number of attempts with the SDK's standard jittered backoff.
 * Worst case per call = attempts × request timeout + backoff (≤ ~0.5 s), listed per client below.
 */
export interface ClientTimeouts {
  /** Milliseconds to establish the connection. */
  readonly connectionTimeoutMs: number;
  /** Milliseconds without a response byte before the attempt is abandoned. */
  readonly requestTimeoutMs: number;
  /** Attempts in total (1 = no retry), with the SDK's standard jittered exponential backoff. */
  readonly maxAttempts: number;
}

/**
 * DynamoDB answers in single-digit milliseconds; 2 s of silence means it is not going to answer.
 * Worst case ≈ 3 × 2 s + backoff ≈ 6.5 s per call, so even the query path's two dependent rounds
 * stay under the 20 s function timeout, and the first hung call already ends the request.
 */
export const DYNAMODB_TIMEOUTS: ClientTimeouts = Object.freeze({
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 2_000,
  maxAttempts: 3,
});

/** Secrets Manager and STS are slower (tens of ms, KMS behind them): ≈ 2 × 3 s + backoff ≈ 6.5 s worst case. */
export const CONTROL_PLANE_TIMEOUTS: ClientTimeouts = Object.freeze({
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
  maxAttempts: 2,
});

/** The SDK client options for a timeout policy. */
export function clientOptions(timeouts: ClientTimeouts): {
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
} {
  return {
    maxAttempts: timeouts.maxAttempts,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // Without it the SDK only logs a warning when the request timeout passes and keeps waiting.
      throwOnRequestTimeout: true,
    },
  };
}

let dynamo: DynamoDBDocumentClient | undefined;

/** The function's own DynamoDB document client (its execution role's credentials). */
export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= createDocumentClient({});
  return dynamo;
}

/** A DynamoDB document client with the DynamoDB timeout policy; `config` adds e.g. scoped credentials. */
export function createDocumentClient(config: Omit<DynamoDBClientConfig, 'maxAttempts' | 'requestHandler'>) {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...config, ...clientOptions(DYNAMODB_TIMEOUTS) }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  // Throttling and capacity
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'LimitExceededException',
  'TransactionInProgressException',
  // Service-side failures
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  // Transport: the SDK's own timeouts and aborted requests
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);

const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * True when an AWS SDK failure means "the dependency is slow, throttling or unreachable", i.e. a
 * retry later may succeed: throttling and capacity errors, 5xx answers, the SDK's timeouts and
 * connection errors. The callers turn these into `DEPENDENCY_UNAVAILABLE` (503).
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: unknown;
    cause?: unknown;
  };
  if (typeof candidate.name === 'string' && TRANSIENT_ERROR_NAMES.has(candidate.name)) return true;
  if (typeof candidate.code === 'string' && TRANSIENT_NETWORK_CODES.has(candidate.code)) return true;
  if (candidate.$retryable) return true;
  const status = candidate.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  // Aggregate connection errors (happy eyeballs) and wrapped causes.
  if (candidate.cause !== undefined && candidate.cause !== error) return isTransientAwsError(candidate.cause);
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.some(isTransientAwsError);
}
