/**
 * `npm run bench:coldstart [-- --runs 15] [-- --json] [-- --check]`
 *
 * Bundles every Lambda exactly as the stacks do (the same `LAMBDA_BUNDLE_OPTIONS` and entries
 * `EmbedFunction` hands to NodejsFunction), then reports per function:
 * - bundle size: the minified `index.mjs`, without its source map;
 * - module init time: the median, over N fresh `node` processes, of importing the bundle (what
 *   Lambda's init phase runs before the first invocation), with the function's environment set
 *   so config validation at load passes, and with the same runtime source-map setting as deployed.
 * The asset is the deployed one: the viewer's bundle gets its `viewer/` files next to `index.mjs`
 * by the same `afterBundling` commands the stack runs, so its init reads them as it does in Lambda.
 * The process is in the state Lambda's is when it imports a handler: the Node.js runtime interface
 * client (an ES module) has already been loaded and has required its Node modules (see
 * `LAMBDA_RUNTIME_STAND_IN`); the timer covers the handler's own import only.
 * Targets: every bundle <= 250 KB and every init <= 50 ms. With `--json` the last line is
 * `{ maxBundleKB, maxInitMs, functions: {...} }`; `--check` exits 1 when a target is missed.
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  BUNDLE_FILE_NAME,
  ENABLE_RUNTIME_SOURCE_MAPS,
  lambdaBuildOptions,
  viewerAssetBundlingCommands,
} from '../lib/bundling.ts';
import { EMBED_FUNCTION_NAMES, ENV, type EmbedFunctionName, FUNCTION_SPECS, handlerEntry } from '../lib/functions.ts';

const TARGET_BUNDLE_KB = 250;
const TARGET_INIT_MS = 50;

interface FunctionResult {
  readonly bundleKB: number;
  readonly initMs: number;
  readonly initRunsMs: readonly number[];
  readonly withinTargets: boolean;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const check = args.includes('--check');
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 11;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

const root = fileURLToPath(new URL('..', import.meta.url));
const outRoot = join(root, '.tmp', 'coldstart');
const runtimeStandIn = join(outRoot, 'lambda-runtime-stand-in.mjs');

/**
 * What Lambda's Node.js runtime has loaded when it imports the handler. The runtime is the runtime
 * interface client (github.com/aws/aws-lambda-nodejs-runtime-interface-client, src/): an
 * esbuild-bundled ES module (`/var/runtime/index.mjs`) which, before `UserFunction.load` imports
 * the handler, requires `http` (RAPIDClient.js, which also creates an `http.Agent`), `net`
 * (ResponseStream.js), `util` and `fs` (LogPatch.js, Errors.js), `path` and `module`
 * (UserFunction.js) and `assert` (InvokeContext.js). A fresh `node -e` process has done none of
 * this, and without the stand-in the benchmark would charge loading the ES module loader's file
 * path and those modules to every handler, which Lambda does not.
 */
const LAMBDA_RUNTIME_STAND_IN = [
  "import { createRequire } from 'node:module';",
  'const require = createRequire(import.meta.url);',
  "for (const name of ['util', 'fs', 'path', 'module', 'assert', 'net']) require(name);",
  "new (require('http').Agent)({ keepAlive: true, maxSockets: 1 });",
].join('\n');

/** Plausible values for every variable a handler may require at load; nothing here is contacted. */
function environmentFor(name: EmbedFunctionName): NodeJS.ProcessEnv {
  const account = '123456789012';
  return {
    PATH: process.env.PATH,
    ...(ENABLE_RUNTIME_SOURCE_MAPS ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    // The functions run on nodejs24.x, where the SDK has nothing to warn about; on this machine's
    // Node 20 it would print a support notice at client construction (a stderr write that Lambda
    // never does), so the benchmark switches it off to time what Lambda runs.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(FUNCTION_SPECS[name].memorySize),
    [ENV.serviceName]: name,
    [ENV.metricsNamespace]: 'SecureEmbed/bench',
    [ENV.logLevel]: 'INFO',
    [ENV.controlTableName]: 'bench-control',
    [ENV.dataTableName]: 'bench-data',
    [ENV.signingKeySecretPrefix]: 'embed/signing-keys/bench/',
    [ENV.tenantDataRoleArn]: `arn:aws:iam::${account}:role/bench-tenant-data-reader`,
    [ENV.tenantDataWriterRoleArn]: `arn:aws:iam::${account}:role/bench-tenant-data-writer`,
    [ENV.rotationLambdaArn]: `arn:aws:lambda:us-east-1:${account}:function:bench-rotate-signing-key`,
    [ENV.tokenIssuer]: 'urn:secure-embed:bench',
    [ENV.tokenAudience]: 'urn:secure-embed:bench:viewer',
    [ENV.viewerBaseUrl]: 'https://embed.example.com',
    [ENV.apiBaseUrl]: 'https://api.example.com/prod',
    [ENV.allowedOrigins]: 'https://app.example.com',
    [ENV.userPoolId]: 'us-east-1_BenchPool',
  };
}

/** The esbuild CLI invocation NodejsFunction runs, expressed through the JS API. */
async function bundle(name: EmbedFunctionName): Promise<string> {
  const outdir = join(outRoot, name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, BUNDLE_FILE_NAME);
  await build({ ...lambdaBuildOptions(handlerEntry(name), outfile), absWorkingDir: root, logLevel: 'error' });
  // The stack's `afterBundling` hook of the viewer (lib/stacks/api-stack.ts), run the same way.
  if (name === 'viewer') {
    for (const command of viewerAssetBundlingCommands(root, outdir)) execSync(command, { stdio: 'pipe' });
  }
  return outfile;
}

/**
 * One fresh process: the runtime stand-in is loaded, then the time from just before `import()` of
 * the bundle to the module having finished evaluating.
 */
function measureInit(bundlePath: string, env: NodeJS.ProcessEnv): number {
  const script = [
    `await import(${JSON.stringify(pathToFileURL(runtimeStandIn).href)});`,
    'const started = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(bundlePath).href)});`,
    'process.stdout.write(String(performance.now() - started));',
  ].join('\n');
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`importing ${bundlePath} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return Number(result.stdout.trim());
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  mkdirSync(outRoot, { recursive: true });
  writeFileSync(runtimeStandIn, `${LAMBDA_RUNTIME_STAND_IN}\n`);
  const functions: Record<string, FunctionResult> = {};
  for (const name of EMBED_FUNCTION_NAMES) {
    const bundlePath = await bundle(name);
    const bundleKB = round(statSync(bundlePath).size / 1024);
    const env = environmentFor(name);
    measureInit(bundlePath, env); // warm the OS file cache, as a provisioned sandbox has it
    const initRunsMs = Array.from({ length: runs }, () => round(measureInit(bundlePath, env), 2));
    const initMs = round(median(initRunsMs), 2);
    functions[name] = {
      bundleKB,
      initMs,
      initRunsMs,
      withinTargets: bundleKB <= TARGET_BUNDLE_KB && initMs <= TARGET_INIT_MS,
    };
  }

  const results = Object.values(functions);
  const summary = {
    maxBundleKB: Math.max(...results.map((r) => r.bundleKB)),
    maxInitMs: Math.max(...results.map((r) => r.initMs)),
    targets: { bundleKB: TARGET_BUNDLE_KB, initMs: TARGET_INIT_MS },
    runs,
    node: process.version,
    withinTargets: results.every((r) => r.withinTargets),
    functions,
  };

  console.log(`cold start (${runs} fresh processes per function, node ${process.version})`);
  console.log('function             bundle KB   init ms (median)   target');
  for (const [name, result] of Object.entries(functions)) {
    console.log(
      `${name.padEnd(20)} ${String(result.bundleKB).padStart(9)}   ${String(result.initMs).padStart(16)}   ${
        result.withinTargets ? 'ok' : 'MISSED'
      }`,
    );
  }
  console.log(`targets: bundle <= ${TARGET_BUNDLE_KB} KB, init <= ${TARGET_INIT_MS} ms`);
  if (json) console.log(JSON.stringify(summary));
  if (check && !summary.withinTargets) process.exitCode = 1;
}

await main();
