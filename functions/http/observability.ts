import type { EmbedError } from '#errors';
import { DEFAULT_METRICS_NAMESPACE, IDENTITY_MISMATCH_METRIC, SERVICE_DIMENSION } from '#shared/metrics';
import type { AuditRepository } from '#control/audit';
import type { ApiRequest, RefusalListener } from './api-handler.ts';

/*
 * Structured logs and metrics, written in the formats Powertools for AWS Lambda writes, without
 * the library: the functions use four log methods and one counter, and Powertools' Logger and
 * Metrics added ~31 KB to every bundle plus `node:console` and their construction to every cold
 * start (measured in the commit that made this change). The output is unchanged:
 * - a log line is one JSON object: `level`, `message`, `timestamp`, `service`, `sampling_rate`,
 *   `xray_trace_id` (when traced), then the caller's attributes; errors become
 *   `{ name, location, message, stack, cause }` unless they define `toJSON` (our `EmbedError`s
 *   log their caller-safe `{ code, message }`); INFO and DEBUG go to stdout, WARN and ERROR to
 *   stderr; the level comes from `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL` or Lambda's advanced logging
 *   controls (`AWS_LAMBDA_LOG_LEVEL`);
 * - a metric is one CloudWatch embedded-metric-format record on stdout, namespace
 *   `POWERTOOLS_METRICS_NAMESPACE`, dimension `service`; `POWERTOOLS_METRICS_DISABLED` (or
 *   `POWERTOOLS_DEV`) turns metrics off, as it did.
 */

export type LogAttributes = Readonly<Record<string, unknown>>;

/** What the functions log with. Powertools' `Logger` also satisfies it (tests may pass one). */
export interface Logger {
  debug(message: string, ...attributes: LogAttributes[]): void;
  info(message: string, ...attributes: LogAttributes[]): void;
  warn(message: string, ...attributes: LogAttributes[]): void;
  error(message: string, ...attributes: LogAttributes[]): void;
}

/** The product's metrics: counts, each published at once as one EMF record. */
export interface Metrics {
  count(name: string, value?: number): void;
}

type LevelName = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';

/** Powertools' level thresholds, so a configured level means what it meant. */
const LEVELS: Readonly<Record<LevelName, number>> = Object.freeze({
  TRACE: 6,
  DEBUG: 8,
  INFO: 12,
  WARN: 16,
  ERROR: 20,
  CRITICAL: 24,
  SILENT: 28,
});

/** Keys of every log line; an attribute of the same name is dropped rather than overwrite one. */
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
]);

/** Logger and metrics of one function, created once per container. */
export function createObservability(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): { logger: Logger; metrics: Metrics } {
  return { logger: createLogger(serviceName, env), metrics: createMetrics(serviceName, env) };
}

/** A JSON-lines logger for `serviceName` at the configured level. */
export function createLogger(serviceName: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const threshold = levelThreshold(env);
  const write = (level: LevelName, message: string, attributes: readonly LogAttributes[]) => {
    if (LEVELS[level] < threshold) return;
    const record: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: serviceName,
      sampling_rate: 0,
    };
    const traceId = xrayTraceId(env);
    if (traceId) record.xray_trace_id = traceId;
    for (const group of attributes) {
      for (const key in group) {
        const value = group[key];
        if (!RESERVED_KEYS.has(key) && value !== undefined && value !== null && value !== '') record[key] = value;
      }
    }
    const line = `${JSON.stringify(record, logValueReplacer())}\n`;
    // Streams are touched on the first line written, not at load: most invocations log nothing.
    if (LEVELS[level] >= LEVELS.WARN) process.stderr.write(line);
    else process.stdout.write(line);
  };
  return {
    debug: (message, ...attributes) => write('DEBUG', message, attributes),
    info: (message, ...attributes) => write('INFO', message, attributes),
    warn: (message, ...attributes) => write('WARN', message, attributes),
    error: (message, ...attributes) => write('ERROR', message, attributes),
  };
}

/** CloudWatch EMF counts for `serviceName`, in the namespace the stack configures. */
export function createMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): Metrics {
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE;
  const disabled = metricsDisabled(env);
  return {
    count(name, value = 1) {
      if (disabled) return;
      const record = {
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            { Namespace: namespace, Dimensions: [[SERVICE_DIMENSION]], Metrics: [{ Name: name, Unit: 'Count' }] },
          ],
        },
        [SERVICE_DIMENSION]: serviceName,
        [name]: value,
      };
      process.stdout.write(`${JSON.stringify(record)}\n`);
    },
  };
}

/**
 * Records every refused request in the audit log (who, tenant, action, reason code — never the
 * token) and counts identity mismatches, the signature of the "pasted someone else's embed" attack.
 */
export function auditRefusals(options: {
  readonly audit: Pick<AuditRepository, 'append'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The audit action of each route key; routes not listed use `fallback`. */
  readonly actions: Readonly<Record<string, string>>;
  readonly fallback: string;
}): RefusalListener {
  return async (error: EmbedError, request: ApiRequest | undefined) => {
    if (error.code === 'EMBED_TOKEN_IDENTITY_MISMATCH') options.metrics.count(IDENTITY_MISMATCH_METRIC);
    // Without a verified identity there is no tenant to file the event under; the log line remains.
    if (!request || error.status >= 500) return;
    await options.audit.append({
      tenantId: request.caller.tenantId,
      sub: request.caller.sub,
      action: options.actions[request.routeKey] ?? options.fallback,
      ...(embedIdOf(request) ? { embedId: embedIdOf(request) } : {}),
      outcome: 'denied',
      reason: error.code,
    });
  };
}

/** Lambda's advanced logging controls win over the function's own setting, as in Powertools. */
function levelThreshold(env: NodeJS.ProcessEnv): number {
  const levelOf = (value: string | undefined): number | undefined => {
    const name = value?.trim().toUpperCase();
    if (name === 'FATAL') return LEVELS.CRITICAL;
    return name !== undefined && Object.hasOwn(LEVELS, name) ? LEVELS[name as LevelName] : undefined;
  };
  return (
    levelOf(env.AWS_LAMBDA_LOG_LEVEL) ??
    levelOf(env.POWERTOOLS_LOG_LEVEL || undefined) ??
    levelOf(env.LOG_LEVEL) ??
    LEVELS.INFO
  );
}

const TRUE_VALUES: ReadonlySet<string> = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSE_VALUES: ReadonlySet<string> = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

/** `POWERTOOLS_METRICS_DISABLED` when it says yes or no, else off in `POWERTOOLS_DEV` mode. */
function metricsDisabled(env: NodeJS.ProcessEnv): boolean {
  const flag = (value: string | undefined) => {
    const normalized = value?.trim().toLowerCase() ?? '';
    return TRUE_VALUES.has(normalized) ? true : FALSE_VALUES.has(normalized) ? false : undefined;
  };
  return flag(env.POWERTOOLS_METRICS_DISABLED) ?? flag(env.POWERTOOLS_DEV) ?? false;
}

/**
 * The `Root` of the invocation's X-Ray trace header: from the runtime's per-invocation store when
 * it has one (several invocations may share a process), else from `_X_AMZN_TRACE_ID`.
 */
function xrayTraceId(env: NodeJS.ProcessEnv): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?: () => string | undefined } } })
    .awslambda?.InvokeStore;
  const header = store?.getXRayTraceId?.() ?? env._X_AMZN_TRACE_ID;
  if (!header) return undefined;
  if (!header.includes('=')) return header;
  for (const part of header.split(';')) {
    const [key, value] = part.split('=');
    if (key === 'Root' && value) return value;
  }
  return undefined;
}

/**
 * JSON.stringify replacer for log values: errors become `{ name, location, message, stack, cause }`
 * plus their own enumerable fields, bigints become strings, and a value that contains itself is
 * cut where it repeats instead of failing the log line.
 */
function logValueReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  // The chain from the root to the value being written: `this` is the object holding `value`.
  const path: { original: unknown; written: unknown }[] = [];
  return function (this: unknown, _key: string, value: unknown) {
    while (path.length > 0 && path[path.length - 1]?.written !== this) path.pop();
    if (typeof value === 'object' && value !== null && path.some((entry) => entry.original === value)) return undefined;
    const written = value instanceof Error ? describeError(value) : typeof value === 'bigint' ? String(value) : value;
    if (typeof written === 'object' && written !== null) path.push({ original: value, written });
    return written;
  };
}

function describeError(error: Error, seen: ReadonlySet<Error> = new Set()): Record<string, unknown> {
  const chain = new Set(seen).add(error);
  const { cause } = error;
  const described: Record<string, unknown> = {
    name: error.name,
    location: codeLocation(error.stack),
    message: error.message,
    stack: error.stack,
    cause: cause instanceof Error ? (chain.has(cause) ? undefined : describeError(cause, chain)) : cause,
  };
  const fields = error as unknown as Record<string, unknown>;
  for (const key in error) {
    if (!(key in described)) described[key] = fields[key];
  }
  return described;
}

/** `file:line` of the first stack frame that names one. */
function codeLocation(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const match = /\(([^()]*?):(\d+):\d+\)$/.exec(line.trim());
    if (match) return `${match[1]}:${match[2]}`;
  }
  return '';
}

/** The embed a refused request was about, when the body names one (best effort, for the audit trail). */
function embedIdOf(request: ApiRequest): string | undefined {
  if (request.pathParameters.embedId) return sanitizeId(request.pathParameters.embedId);
  if (!request.rawBody || request.rawBody.length > 64 * 1024 || request.isBase64Encoded) return undefined;
  try {
    const body = JSON.parse(request.rawBody) as { embedId?: unknown };
    return typeof body.embedId === 'string' ? sanitizeId(body.embedId) : undefined;
  } catch {
    return undefined;
  }
}

function sanitizeId(value: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}
