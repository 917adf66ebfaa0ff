import type { EmbedError } from '#errors';

/** Headers on every API response: JSON only, never cached, never framed, never sniffed. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
});

/** What a route returns; the API handler turns it into an API Gateway proxy result. */
export interface ApiResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The caller-safe error body. The request id lets support find the log line; nothing else leaks. */
export function errorBody(error: EmbedError, requestId: string): Record<string, unknown> {
  return { ...error.toJSON(), requestId };
}

/** CORS headers for a request origin, only when it is one of the configured origins. */
export function corsHeaders(origin: string | undefined, allowedOrigins: readonly string[]): Record<string, string> {
  if (!origin || !allowedOrigins.includes(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'false',
    'Access-Control-Expose-Headers': 'x-request-id',
    Vary: 'Origin',
  };
}
