import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/**
 * How every Lambda is bundled, in one place. `EmbedFunction` hands these options to
 * `NodejsFunction` (which runs the esbuild CLI) and `bench/coldstart.ts` hands the same options to
 * esbuild's JS API, so the benchmark measures the exact artefact that is deployed. No CDK imports:
 * the benchmark loads this without pulling in aws-cdk-lib.
 */

/** Node.js major version of the Lambda runtime; the esbuild target follows it. */
export const LAMBDA_NODE_MAJOR = 24;

/**
 * ESM output still meets CommonJS-only code inside some dependencies (and the AWS SDK's own
 * `require` of Node built-ins in a few paths); giving the module a real `require` keeps those
 * working without falling back to a CommonJS bundle, which would lose ESM tree-shaking.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface LambdaBundleOptions {
  readonly target: string;
  readonly platform: 'node';
  readonly format: 'esm';
  readonly minify: true;
  /** Source maps are emitted next to the bundle (not inlined) so they do not count towards its size or load time. */
  readonly sourceMap: true;
  /** The map carries mappings only, not a copy of every source file: smaller artefact, same stack traces. */
  readonly sourcesContent: false;
  /** Prefer the ESM build of each dependency: that is what lets esbuild tree-shake the AWS SDK v3. */
  readonly mainFields: readonly string[];
  readonly banner: string;
  /**
   * The AWS SDK v3 is bundled (tree-shaken to the commands in use) instead of relying on the
   * runtime's copy, whose version we do not control and which costs more to load. The one module
   * left out is `UNBUNDLED_SDK_CAPABILITY`.
   */
  readonly externalModules: readonly string[];
  /** Extra esbuild flags that `NodejsFunction` has no typed option for. */
  readonly esbuildArgs: Readonly<Record<string, string | boolean>>;
  /** Module substitutions (esbuild `alias`). */
  readonly alias: Readonly<Record<string, string>>;
}

/** The environment-only credential provider that replaces the SDK's default chain inside bundles. */
export const LAMBDA_CREDENTIALS_MODULE = fileURLToPath(
  new URL('../functions/shared/lambda-credentials.ts', import.meta.url),
);

/** `process.env` and `process.versions` without Node's ES module facade of `node:process`. */
export const PROCESS_MODULE = fileURLToPath(new URL('../functions/shared/process-module.ts', import.meta.url));

/**
 * The SDK's event-stream support, which its protocols load with a dynamic `import()` only for an
 * operation whose input or output is an event stream. No operation of DynamoDB, STS, Secrets
 * Manager or Cognito has one (test/infra/bundling.test.ts checks every operation of every client
 * in the bundles), so for our functions the import never runs; bundled, its ~15 KB were compiled
 * and its `node:zlib` (for CRC32) loaded at every cold start. Left out, the import would fail with
 * ERR_MODULE_NOT_FOUND if a streaming operation were ever sent, and the test fails first.
 */
export const UNBUNDLED_SDK_CAPABILITY = '@smithy/core/event-streams';

export const LAMBDA_BUNDLE_OPTIONS: LambdaBundleOptions = Object.freeze({
  target: `node${LAMBDA_NODE_MAJOR}`,
  platform: 'node',
  format: 'esm',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: Object.freeze(['module', 'main']),
  banner: ESM_REQUIRE_BANNER,
  externalModules: Object.freeze([UNBUNDLED_SDK_CAPABILITY]),
  esbuildArgs: Object.freeze({
    // Licence banners of bundled dependencies are kept in the source tree, not shipped per function.
    '--legal-comments': 'none',
    '--tree-shaking': 'true',
  }),
  alias: Object.freeze({
    // Lambda always hands the role's credentials over in the environment: the SDK's full default
    // provider chain would be ~135 KB of code that can never run there.
    '@aws-sdk/credential-provider-node': LAMBDA_CREDENTIALS_MODULE,
    // The same values as the built-in module, without the facade that creates stdin and stdout.
    'node:process': PROCESS_MODULE,
  }),
});

/**
 * Source maps ship inside each asset (for decoding a logged stack trace offline) but are NOT
 * enabled at runtime: `--enable-source-maps` makes Node parse the map when the module loads,
 * which measured +40 ms of init on a 400 KB bundle, nearly the whole cold-start budget.
 */
export const ENABLE_RUNTIME_SOURCE_MAPS = false;

/** File name of the bundle inside the asset: ESM output is `index.mjs`, so the handler is `index.handler`. */
export const BUNDLE_FILE_NAME = 'index.mjs';

/**
 * `LAMBDA_BUNDLE_OPTIONS` for esbuild's JS API: the build `NodejsFunction`'s CLI invocation runs,
 * for the benchmark and the bundle tests.
 */
export function lambdaBuildOptions(entry: string, outfile: string): BuildOptions {
  const options = LAMBDA_BUNDLE_OPTIONS;
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: options.platform,
    format: options.format,
    target: options.target,
    minify: options.minify,
    sourcemap: options.sourceMap,
    sourcesContent: options.sourcesContent,
    mainFields: [...options.mainFields],
    banner: { js: options.banner },
    external: [...options.externalModules],
    legalComments: options.esbuildArgs['--legal-comments'] as 'none',
    treeShaking: options.esbuildArgs['--tree-shaking'] === 'true',
    alias: { ...options.alias },
  };
}

/** The esbuild CLI flags for `alias` (what `NodejsFunction` passes on). */
export function aliasArgs(alias: Readonly<Record<string, string>>): Record<string, boolean> {
  return Object.fromEntries(Object.entries(alias).map(([from, to]) => [`--alias:${from}=${to}`, true]));
}

/**
 * The `viewer` function's `afterBundling` step: builds the web viewer and copies its servable files
 * into `viewer/` next to `index.mjs`, where the handler reads them at cold start. Runs from the
 * project root (`inputDir`) so `tsx` and the web sources resolve; skipped when bundling is.
 */
export function viewerAssetBundlingCommands(inputDir: string, outputDir: string): string[] {
  return [`cd "${inputDir}" && node --import tsx scripts/build-viewer-assets.ts "${outputDir}/viewer"`];
}
