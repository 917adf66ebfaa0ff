import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '#control/audit';
import { EmbedTokenIdentityMismatch, EmbedTokenInvalid, InternalError } from '#errors';
import { createApiHandler } from '#http/api-handler';
import { auditRefusals, createLogger, createMetrics, createObservability } from '#http/observability';
import { IDENTITY_MISMATCH_METRIC, SERVICE_DIMENSION } from '#shared/metrics';
import { lambdaContext, restEvent } from '../fixtures/api-gateway.ts';

const bob = { sub: '7d1f0c7e-0000-4000-8000-000000000002', username: 'bob', tenantId: 'acme' };
const deployedEnv = { POWERTOOLS_METRICS_NAMESPACE: 'SecureEmbed/test', LOG_LEVEL: 'INFO' };

/** Every line the code under test writes to stdout and stderr while `act` runs, parsed. */
async function captureOutput(act: () => unknown): Promise<{ stdout: unknown[]; stderr: unknown[] }> {
  const stdout: unknown[] = [];
  const stderr: unknown[] = [];
  const collect = (into: unknown[]) => (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) into.push(JSON.parse(line));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(collect(stdout));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(collect(stderr));
  try {
    await act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

/** The embed-sessions refusal path: the handler maps the error, `auditRefusals` audits and counts it. */
function sessionsHandlerThrowing(error: Error) {
  const { logger, metrics } = createObservability('embed-sessions', deployedEnv);
  const audit = {
    append: vi.fn(
      async (input: Omit<AuditEvent, 'at'>): Promise<AuditEvent> => ({ ...input, at: '2026-12-01T00:00:00Z' }),
    ),
  };
  const handler = createApiHandler({
    logger,
    allowedOrigins: [],
    routes: {
      'POST /v1/embed/sessions': async () => {
        throw error;
      },
    },
    onRefusal: auditRefusals({ audit, metrics, logger, actions: {}, fallback: 'embed-session.open' }),
  });
  const event = restEvent({ method: 'POST', resource: '/v1/embed/sessions', identity: bob, body: { token: 'x' } });
  return { audit, invoke: () => handler(event, lambdaContext('embed-sessions')) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('identity-mismatch metric', () => {
  it('a refused identity mismatch emits one EMF record counting IdentityMismatch for the service', async () => {
    // Prepare
    const { audit, invoke } = sessionsHandlerThrowing(new EmbedTokenIdentityMismatch());
    // Act
    const { stdout } = await captureOutput(invoke);
    // Assess
    const emf = stdout.filter((line) => typeof line === 'object' && line !== null && '_aws' in line);
    expect(emf).toHaveLength(1);
    const record = emf[0] as {
      _aws: {
        Timestamp: number;
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
      };
      [key: string]: unknown;
    };
    expect(record._aws.CloudWatchMetrics).toHaveLength(1);
    const [directive] = record._aws.CloudWatchMetrics;
    expect(directive?.Metrics[0]?.Name).toBe(IDENTITY_MISMATCH_METRIC);
    expect(directive).toEqual({
      Namespace: 'SecureEmbed/test',
      Dimensions: [[SERVICE_DIMENSION]],
      Metrics: [{ Name: IDENTITY_MISMATCH_METRIC, Unit: 'Count' }],
    });
    expect(record[SERVICE_DIMENSION]).toBe('embed-sessions');
    expect(record[IDENTITY_MISMATCH_METRIC]).toBe(1);
    expect(Number.isInteger(record._aws.Timestamp)).toBe(true);
    expect(audit.append).toHaveBeenCalledWith(
      expect.objectContaining({
        tenantId: 'acme',
        sub: bob.sub,
        outcome: 'denied',
        reason: 'EMBED_TOKEN_IDENTITY_MISMATCH',
      }),
    );
  });

  it('other refusals are audited but not counted', async () => {
    const { audit, invoke } = sessionsHandlerThrowing(new EmbedTokenInvalid());
    const { stdout } = await captureOutput(invoke);
    expect(stdout.some((line) => typeof line === 'object' && line !== null && '_aws' in line)).toBe(false);
    expect(audit.append).toHaveBeenCalledOnce();
  });

  it('uses the default namespace when the stack sets none, and nothing is written when metrics are disabled', async () => {
    const fallback = await captureOutput(() => createMetrics('admin', {}).count(IDENTITY_MISMATCH_METRIC));
    const disabled = await captureOutput(() =>
      createMetrics('admin', { ...deployedEnv, POWERTOOLS_METRICS_DISABLED: 'true' }).count(IDENTITY_MISMATCH_METRIC),
    );
    expect(fallback.stdout).toMatchObject([{ _aws: { CloudWatchMetrics: [{ Namespace: 'SecureEmbed' }] } }]);
    expect(disabled.stdout).toEqual([]);
  });
});

describe('log lines', () => {
  it('are one JSON object with level, message, timestamp, service, trace id and the attributes', async () => {
    // Prepare
    const logger = createLogger('embed-query', {
      ...deployedEnv,
      _X_AMZN_TRACE_ID: 'Root=1-abc-def;Parent=12;Sampled=1',
    });
    // Act
    const { stdout, stderr } = await captureOutput(() =>
      logger.info('request refused', { routeKey: 'POST /v1/embed/query', requestId: 'r-1', status: 403, none: null }),
    );
    // Assess
    expect(stderr).toEqual([]);
    expect(stdout).toEqual([
      {
        level: 'INFO',
        message: 'request refused',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'embed-query',
        sampling_rate: 0,
        xray_trace_id: '1-abc-def',
        routeKey: 'POST /v1/embed/query',
        requestId: 'r-1',
        status: 403,
      },
    ]);
  });

  it('go to stderr from WARN up; errors are described, our errors log their caller-safe body', async () => {
    const logger = createLogger('admin', deployedEnv);
    const failure = new TypeError('boom');
    const { stdout, stderr } = await captureOutput(() => {
      logger.error('request failed', { requestId: 'r-2', error: failure });
      logger.error('request failed', { requestId: 'r-3', error: new InternalError({ cause: failure }) });
    });
    expect(stdout).toEqual([]);
    expect(stderr).toMatchObject([
      {
        level: 'ERROR',
        requestId: 'r-2',
        error: { name: 'TypeError', message: 'boom', stack: failure.stack, location: expect.stringContaining(':') },
      },
      { level: 'ERROR', requestId: 'r-3', error: { code: 'INTERNAL_ERROR', message: 'An internal error occurred.' } },
    ]);
  });

  it('an attribute cannot overwrite a base key, and a value containing itself does not break the line', async () => {
    const logger = createLogger('admin', deployedEnv);
    const looped: Error & { self?: unknown } = new Error('loop');
    looped.self = looped;
    const { stderr } = await captureOutput(() => logger.warn('odd', { service: 'spoofed', error: looped, big: 10n }));
    expect(stderr).toMatchObject([{ level: 'WARN', service: 'admin', error: { message: 'loop' }, big: '10' }]);
    expect((stderr[0] as { error: Record<string, unknown> }).error).not.toHaveProperty('self');
  });

  it.each([
    ['LOG_LEVEL', { LOG_LEVEL: 'WARN' }, ['WARN', 'ERROR']],
    ['POWERTOOLS_LOG_LEVEL over LOG_LEVEL', { POWERTOOLS_LOG_LEVEL: 'ERROR', LOG_LEVEL: 'DEBUG' }, ['ERROR']],
    [
      "Lambda's log level over both",
      { AWS_LAMBDA_LOG_LEVEL: 'DEBUG', LOG_LEVEL: 'ERROR' },
      ['DEBUG', 'INFO', 'WARN', 'ERROR'],
    ],
    ['SILENT', { POWERTOOLS_LOG_LEVEL: 'SILENT' }, []],
    ['INFO by default', {}, ['INFO', 'WARN', 'ERROR']],
  ])('the level threshold comes from %s', async (_name, env, expected) => {
    const logger = createLogger('admin', env);
    const { stdout, stderr } = await captureOutput(() => {
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
    });
    expect([...stdout, ...stderr].map((line) => (line as { level: string }).level)).toEqual(expected);
  });
});
