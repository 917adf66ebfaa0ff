import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { EmbedError } from '#errors';
import { DEFAULT_METRICS_NAMESPACE, IDENTITY_MISMATCH_METRIC } from '#shared/metrics';
import type { AuditRepository } from '#control/audit';
import type { ApiRequest, RefusalListener } from './api-handler.ts';

/** Logger and metrics of one function, created once per container. */
export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    ...(process.env.POWERTOOLS_METRICS_NAMESPACE ? {} : { namespace: DEFAULT_METRICS_NAMESPACE }),
  });
  return { logger, metrics };
}

/**
 * Records every refused request in the audit log (who, tenant, action, reason code — never the
 * token) and counts identity mismatches, the signature of the "pasted someone else's embed" attack.
 */
export function auditRefusals(options: {
  readonly audit: AuditRepository;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The audit action of each route key; routes not listed use `fallback`. */
  readonly actions: Readonly<Record<string, string>>;
  readonly fallback: string;
}): RefusalListener {
  return async (error: EmbedError, request: ApiRequest | undefined) => {
    if (error.code === 'EMBED_TOKEN_IDENTITY_MISMATCH') {
      options.metrics.addMetric(IDENTITY_MISMATCH_METRIC, MetricUnit.Count, 1);
      options.metrics.publishStoredMetrics();
    }
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
