import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DependencyUnavailable, type EmbedError, NotFound, Unauthenticated, toEmbedError } from '#errors';
import { type Caller, callerFromClaims } from '#shared/identity';
import type { Logger } from './observability.ts';
import { type ApiResult, SECURITY_HEADERS, corsHeaders, errorBody } from './responses.ts';

/** Everything a route needs from the HTTP request, already authenticated. */
export interface ApiRequest {
  readonly caller: Caller;
  readonly routeKey: string;
  readonly rawBody: string | null;
  readonly isBase64Encoded: boolean;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestId: string;
  readonly sourceIp: string;
}

export type RouteHandler = (request: ApiRequest) => Promise<ApiResult>;

/** Called for every refused request so it can be audited and counted; must not throw. */
export type RefusalListener = (error: EmbedError, request: ApiRequest | undefined) => Promise<void>;

export interface ApiHandlerOptions {
  /** Routes keyed by `"<METHOD> <resource>"` (see lib/routes.ts `routeKey`). */
  readonly routes: Readonly<Record<string, RouteHandler>>;
  readonly logger: Logger;
  readonly allowedOrigins: readonly string[];
  readonly onRefusal?: RefusalListener;
}

/**
 * Builds a Lambda handler for API Gateway REST proxy events. It is the one place where errors
 * become responses: known errors keep their code and status, anything else becomes a 500 with
 * no internals, and every response carries the security headers.
 */
export function createApiHandler(options: ApiHandlerOptions) {
  return async (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> => {
    const headers = lowerCaseHeaders(event.headers);
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const routeKey = `${event.httpMethod} ${event.resource}`;
    const cors = corsHeaders(headers.origin, options.allowedOrigins);
    let request: ApiRequest | undefined;
    try {
      const caller = callerFromClaims(event.requestContext?.authorizer?.claims as Record<string, unknown> | undefined);
      request = {
        caller,
        routeKey,
        rawBody: event.body ?? null,
        isBase64Encoded: event.isBase64Encoded === true,
        pathParameters: stringRecord(event.pathParameters),
        query: stringRecord(event.queryStringParameters),
        headers,
        requestId,
        sourceIp: event.requestContext?.identity?.sourceIp ?? '',
      };
      const route = options.routes[routeKey];
      if (!route) throw new NotFound('route');
      const result = await withinDeadline(route(request), context);
      return {
        statusCode: result.status,
        headers: { ...SECURITY_HEADERS, ...cors, 'x-request-id': requestId, ...result.headers },
        body: result.body === undefined ? '' : JSON.stringify(result.body),
      };
    } catch (thrown) {
      const error = toEmbedError(thrown);
      if (error.status >= 500) {
        // The log gets what went wrong underneath (the SDK error behind a 503, the defect behind a
        // 500); an EmbedError itself serialises to its caller-safe `{ code, message }` only.
        options.logger.error('request failed', {
          routeKey,
          requestId,
          code: error.code,
          cause: error === thrown ? error.cause : thrown,
        });
      } else {
        options.logger.info('request refused', { routeKey, requestId, code: error.code, status: error.status });
      }
      if (options.onRefusal && !(error instanceof Unauthenticated && request === undefined)) {
        try {
          await options.onRefusal(error, request);
        } catch (listenerError) {
          options.logger.error('refusal listener failed', { requestId, error: listenerError as Error });
        }
      }
      return {
        statusCode: error.status,
        headers: {
          ...SECURITY_HEADERS,
          ...cors,
          'x-request-id': requestId,
          ...(error instanceof DependencyUnavailable ? { 'Retry-After': String(error.retryAfterSeconds) } : {}),
        },
        body: JSON.stringify(errorBody(error, requestId)),
      };
    }
  };
}

/** Time kept back from the function's timeout to answer, log and audit after the deadline. */
export const DEADLINE_MARGIN_MS = 1_500;

/**
 * The route's result, or `DependencyUnavailable` once the function is about to time out: the
 * clients' own timeouts normally fire first, and this is the backstop that turns a chain of slow
 * calls into a clean 503 instead of a Lambda timeout (which API Gateway turns into a 502/504).
 */
function withinDeadline<T>(work: Promise<T>, context: Context | undefined): Promise<T> {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyUnavailable({ cause: new Error('request deadline reached') })),
      Math.max(0, remaining - DEADLINE_MARGIN_MS),
    );
  });
  // The abandoned work may still fail later; that must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') out[key.toLowerCase()] = value;
  }
  return out;
}

function stringRecord(record: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) {
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
