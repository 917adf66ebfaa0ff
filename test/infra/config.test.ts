import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { loadStageConfig } from '../../lib/config.ts';

const reader =
  (context: Record<string, unknown>) =>
  (key: string): unknown =>
    context[key];

describe('loadStageConfig', () => {
  it('derives stage-specific defaults (prefix, namespace, issuer, retention) for dev', () => {
    // Act
    const config = loadStageConfig(reader({ stage: 'dev', allowedOrigins: ['http://localhost:4000'] }));

    // Assess
    expect(config).toMatchObject({
      stage: 'dev',
      isProduction: false,
      allowedOrigins: ['http://localhost:4000'],
      signingKeySecretPrefix: 'embed/signing-keys/dev/',
      metricsNamespace: 'SecureEmbed/dev',
      tokenIssuer: 'urn:secure-embed:dev',
      tokenAudience: 'urn:secure-embed:dev:viewer',
      logRetention: RetentionDays.ONE_MONTH,
      logLevel: 'DEBUG',
      throttling: { rateLimit: 50, burstLimit: 100 },
      reservedConcurrency: {},
      idTokenValidityMinutes: 15,
    });
  });

  it('accepts -c style string values (comma lists, numbers, JSON objects)', () => {
    const config = loadStageConfig(
      reader({
        stage: 'staging',
        allowedOrigins: 'https://a.example.com, https://b.example.com',
        logRetentionDays: '90',
        throttlingRateLimit: '20',
        reservedConcurrency: '{"embed-query": 5}',
      }),
    );

    expect(config.allowedOrigins).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(config.logRetention).toBe(RetentionDays.THREE_MONTHS);
    expect(config.throttling.rateLimit).toBe(20);
    expect(config.reservedConcurrency).toEqual({ 'embed-query': 5 });
  });

  it('rejects every invalid value at once, naming each', () => {
    const load = () =>
      loadStageConfig(
        reader({
          stage: 'Prod!',
          allowedOrigins: ['https://app.example.com/path', '*'],
          logRetentionDays: 31,
          wafRateLimitPer5Min: 5,
          reservedConcurrency: { 'no-such-function': 1 },
          idTokenValidityMinutes: 120,
        }),
      );

    expect(load).toThrowError(/stage "Prod!"/);
    expect(load).toThrowError(/allowedOrigins entry "https:\/\/app.example.com\/path"/);
    expect(load).toThrowError(/allowedOrigins entry "\*"/);
    expect(load).toThrowError(/logRetentionDays 31/);
    expect(load).toThrowError(/wafRateLimitPer5Min/);
    expect(load).toThrowError(/unknown function "no-such-function"/);
    expect(load).toThrowError(/idTokenValidityMinutes/);
  });

  it('prod requires https origins and viewer URL', () => {
    expect(() =>
      loadStageConfig(
        reader({ stage: 'prod', allowedOrigins: ['http://app.example.com'], viewerBaseUrl: 'http://x.io' }),
      ),
    ).toThrowError(/prod origin "http:\/\/app.example.com" must use https[\s\S]*prod viewerBaseUrl must use https/);
  });

  it('requires at least one allowed origin', () => {
    expect(() => loadStageConfig(reader({ stage: 'dev' }))).toThrowError(
      /allowedOrigins must list at least one origin/,
    );
  });
});
