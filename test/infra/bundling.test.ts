import { join } from 'node:path';
import { NormalizedSchema } from '@smithy/core/schema';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILE_NAME,
  LAMBDA_BUNDLE_OPTIONS,
  lambdaBuildOptions,
  PROCESS_MODULE,
  UNBUNDLED_SDK_CAPABILITY,
} from '../../lib/bundling.ts';
import { EMBED_FUNCTION_NAMES, type EmbedFunctionName, handlerEntry } from '../../lib/functions.ts';

/**
 * The bundles as the stack builds them (`LAMBDA_BUNDLE_OPTIONS`), inspected through esbuild's
 * metafile: what they leave out must be something the functions can never load.
 */
const metafiles = new Map<EmbedFunctionName, Metafile>();
beforeAll(async () => {
  for (const name of EMBED_FUNCTION_NAMES) {
    const result = await build({
      ...lambdaBuildOptions(handlerEntry(name), join('/tmp/bundling-test', name, BUNDLE_FILE_NAME)),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    metafiles.set(name, result.metafile);
  }
}, 120_000);

/** Every import of `path` left external in a function's bundle, with how it is imported. */
function externalImportsOf(name: EmbedFunctionName, path: string): string[] {
  const inputs = Object.values(metafiles.get(name)?.inputs ?? {});
  return inputs.flatMap((input) => input.imports.filter((i) => i.external && i.path === path).map((i) => i.kind));
}

/** The AWS SDK client packages a function's bundle contains, e.g. `@aws-sdk/client-dynamodb`. */
function awsClientPackagesOf(name: EmbedFunctionName): string[] {
  const packages = new Set<string>();
  for (const path of Object.keys(metafiles.get(name)?.inputs ?? {})) {
    const match = /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\//.exec(path);
    if (match?.[1]) packages.add(match[1]);
  }
  return [...packages].sort();
}

/** The project's own source files in a function's bundle, relative to the repository root. */
function sourceFilesOf(name: EmbedFunctionName): string[] {
  return Object.keys(metafiles.get(name)?.inputs ?? {}).filter((path) => path.startsWith('functions/'));
}

describe('Lambda bundles', () => {
  it.each([
    ['embed-tokens', ['cognito-identity-provider', 'dynamodb', 'secrets-manager']],
    ['embed-sessions', ['dynamodb']],
    ['embed-query', ['dynamodb', 'sts']],
    ['admin', ['cognito-identity-provider', 'dynamodb', 'secrets-manager', 'sts']],
    ['viewer', ['dynamodb']],
    ['rotate-signing-key', ['dynamodb', 'secrets-manager']],
  ] as const)('%s bundles only the AWS clients it calls', (name, clients) => {
    expect(awsClientPackagesOf(name)).toEqual(clients.map((client) => `@aws-sdk/client-${client}`));
  });

  it('the public viewer bundles no dataset, RLS, widget, token, admin or embed code', () => {
    const files = sourceFilesOf('viewer');
    expect(files.length).toBeGreaterThan(0);
    expect(
      files.filter((path) => /^functions\/(datasets|token|admin|embed|api)\/|^functions\/control\/rls\.ts$/.test(path)),
    ).toEqual([]);
  });

  it.each(EMBED_FUNCTION_NAMES)('%s reads process.env and versions without importing node:process', (name) => {
    expect(externalImportsOf(name, 'node:process')).toEqual([]);
  });

  it('the node:process substitute exports the very objects the global process holds', async () => {
    const substitute = (await import(PROCESS_MODULE)) as Record<string, unknown>;
    expect(Object.keys(substitute).sort()).toEqual(['env', 'versions']);
    expect(substitute.env).toBe(process.env);
    expect(substitute.versions).toBe(process.versions);
  });

  it('leave out only the SDK event-stream support', () => {
    expect(LAMBDA_BUNDLE_OPTIONS.externalModules).toEqual([UNBUNDLED_SDK_CAPABILITY]);
  });

  it.each(EMBED_FUNCTION_NAMES)('%s reaches the event-stream support only through a dynamic import', (name) => {
    // A static import would be resolved when the module loads, and fail there in Lambda.
    const kinds = externalImportsOf(name, UNBUNDLED_SDK_CAPABILITY);
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['dynamic-import']));
  });

  it('no operation of any AWS client in any bundle streams events, so that import never runs', async () => {
    // Prepare: every client package bundled anywhere, and every command it exports (not only the
    // ones sent today, so a new call cannot bring a streaming operation in unnoticed).
    const packages = [...new Set(EMBED_FUNCTION_NAMES.flatMap(awsClientPackagesOf))].sort();
    expect(packages).toEqual([
      '@aws-sdk/client-cognito-identity-provider',
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sts',
    ]);
    const streaming: string[] = [];
    let operations = 0;
    for (const name of packages) {
      const exports = (await import(name)) as Record<string, unknown>;
      for (const [exportName, value] of Object.entries(exports)) {
        if (!/^[A-Z][A-Za-z0-9]*Command$/.test(exportName) || typeof value !== 'function') continue;
        // Act: the operation schema a command is built with: [9, namespace, name, traits, input, output].
        const schema = (new (value as new (input: object) => { schema?: unknown })({}) as { schema?: unknown }).schema;
        if (!Array.isArray(schema) || schema[0] !== 9) throw new Error(`${name} ${exportName} has no operation schema`);
        operations += 1;
        const [, , , , input, output] = schema;
        if (NormalizedSchema.of(input).getEventStreamMember() || NormalizedSchema.of(output).getEventStreamMember()) {
          streaming.push(`${name} ${exportName}`);
        }
      }
    }
    // Assess
    expect(operations).toBeGreaterThan(100);
    expect(streaming).toEqual([]);
  });
});
