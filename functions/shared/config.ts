import { ConfigInvalid } from '#errors';

/**
 * Configuration is read once, at cold start, and fails fast: a function with a missing or
 * malformed variable refuses to start instead of failing on the first request.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigInvalid(`Missing required environment variable ${name}`);
  }
  return value.trim();
}

/** An optional variable with a default. */
export function optionalEnv(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

/** A positive integer variable (seconds, counts) with a default and bounds. */
export function intEnv(
  name: string,
  fallback: number,
  bounds: { min: number; max: number },
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = optionalEnv(name, String(fallback), env);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new ConfigInvalid(`Environment variable ${name} must be an integer in [${bounds.min}, ${bounds.max}]`);
  }
  return value;
}

/** A comma-separated list variable. */
export function listEnv(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[name];
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
