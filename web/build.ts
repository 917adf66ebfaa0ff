/**
 * Builds the browser code with esbuild: the embed viewer, the SDK (plus its `.d.ts`) and the demo
 * host app, into `.local/web/` by default. `npm run dev` calls `buildWeb({ watch: true })`; the
 * CLI is `tsx web/build.ts [--watch] [--out-dir <dir>]`.
 *
 * Output layout (paths relative to `outDir`):
 *   viewer/viewer.js, viewer/viewer.css   the viewer bundle (loaded by the viewer page)
 *   sdk/index.js, sdk/index.d.ts          the embed SDK as one ES module, with its types
 *   demo/index.html, demo/dashboard.html  the demo host app (login, dashboard) and its JS/CSS
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

/** Default output directory: `<repo>/.local/web` (gitignored). */
export const DEFAULT_WEB_OUT_DIR = resolve(WEB_DIR, '..', '.local', 'web');

/** Bundles: `out` is relative to the output directory, without extension (esbuild adds .js/.css). */
const ENTRY_POINTS: readonly { in: string; out: string }[] = [
  { in: join(WEB_DIR, 'viewer', 'main.ts'), out: 'viewer/viewer' },
  { in: join(WEB_DIR, 'viewer', 'viewer.css'), out: 'viewer/viewer' },
  { in: join(WEB_DIR, 'sdk', 'index.ts'), out: 'sdk/index' },
  { in: join(WEB_DIR, 'demo', 'login.ts'), out: 'demo/login' },
  { in: join(WEB_DIR, 'demo', 'dashboard.ts'), out: 'demo/dashboard' },
  { in: join(WEB_DIR, 'demo', 'demo.css'), out: 'demo/demo' },
];

/** Files copied as they are (the demo pages). */
const STATIC_FILES: readonly { from: string; to: string }[] = [
  { from: join(WEB_DIR, 'demo', 'index.html'), to: 'demo/index.html' },
  { from: join(WEB_DIR, 'demo', 'dashboard.html'), to: 'demo/dashboard.html' },
];

export interface BuildWebOptions {
  /** Output directory (default `.local/web`). */
  readonly outDir?: string;
  /** Rebuild on change until `stop()` is called. */
  readonly watch?: boolean;
  /** Called after each rebuild in watch mode (errors are passed, not thrown). */
  readonly onRebuild?: (result: { errors: number; warnings: number }) => void;
}

export interface WebBuild {
  readonly outDir: string;
  /** Stops watching (no-op for a one-shot build). */
  stop(): Promise<void>;
}

/** Content types for the files the build produces, for whoever serves them. */
export const WEB_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** The content type of a built file, or `undefined` for anything the build does not produce. */
export function webContentType(path: string): string | undefined {
  return WEB_CONTENT_TYPES[extname(path)];
}

/**
 * Absolute path of a built asset, e.g. `webAssetPath('viewer/viewer.js')`. Returns `undefined`
 * for names that could escape the output directory, so a server can pass URL segments straight in.
 */
export function webAssetPath(name: string, outDir: string = DEFAULT_WEB_OUT_DIR): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(name)) return undefined;
  if (name.split('/').some((segment) => segment === '..' || segment === '.')) return undefined;
  const root = resolve(outDir);
  const path = resolve(root, name);
  return path.startsWith(root + sep) ? path : undefined;
}

function esbuildOptions(outDir: string): esbuild.BuildOptions {
  return {
    entryPoints: [...ENTRY_POINTS],
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    // Source maps point into web/ by relative path; no absolute build-machine paths are published.
    sourceRoot: '',
    legalComments: 'linked',
    charset: 'utf8',
    logLevel: 'silent',
  };
}

async function copyStaticFiles(outDir: string): Promise<void> {
  for (const file of STATIC_FILES) {
    const target = join(outDir, file.to);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(file.from, target);
  }
}

/** Emits `sdk/index.d.ts` (and the protocol types it references) with the TypeScript compiler. */
export function emitSdkDeclarations(outDir: string): void {
  const sdkDir = join(WEB_DIR, 'sdk');
  const program = ts.createProgram([join(sdkDir, 'index.ts')], {
    declaration: true,
    emitDeclarationOnly: true,
    outDir: join(outDir, 'sdk'),
    rootDir: sdkDir,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    allowImportingTsExtensions: true,
    skipLibCheck: true,
  });
  // Sources import './protocol.ts' (run directly by tsx); published declarations must say '.js'.
  const result = program.emit(undefined, (fileName, text) =>
    ts.sys.writeFile(fileName, text.replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1.js$2')),
  );
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diagnostics.length > 0) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => process.cwd(),
      getNewLine: () => '\n',
    };
    throw new Error(`SDK declarations failed:\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
}

/** Removes stale outputs of earlier builds (renamed entries would otherwise linger). */
async function cleanOutDir(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const entry of await readdir(outDir)) {
    if (entry === 'viewer' || entry === 'sdk' || entry === 'demo') await rm(join(outDir, entry), { recursive: true });
  }
}

/** Builds viewer, SDK and demo into `outDir`; with `watch`, keeps rebuilding until `stop()`. */
export async function buildWeb(options: BuildWebOptions = {}): Promise<WebBuild> {
  const outDir = resolve(options.outDir ?? DEFAULT_WEB_OUT_DIR);
  await cleanOutDir(outDir);
  await copyStaticFiles(outDir);
  emitSdkDeclarations(outDir);

  if (!options.watch) {
    await esbuild.build(esbuildOptions(outDir));
    return { outDir, stop: async () => undefined };
  }

  const context = await esbuild.context({
    ...esbuildOptions(outDir),
    plugins: [
      {
        name: 'static-files',
        setup(build) {
          build.onEnd(async (result) => {
            // HTML pages are not part of esbuild's graph; copying them on every rebuild keeps them fresh.
            await copyStaticFiles(outDir);
            options.onRebuild?.({ errors: result.errors.length, warnings: result.warnings.length });
          });
        },
      },
    ],
  });
  await context.rebuild();
  await context.watch();
  return { outDir, stop: () => context.dispose() };
}

async function main(argv: readonly string[]): Promise<void> {
  const watch = argv.includes('--watch');
  const outIndex = argv.indexOf('--out-dir');
  const outDir = outIndex >= 0 ? argv[outIndex + 1] : undefined;
  if (outIndex >= 0 && !outDir) throw new Error('--out-dir needs a directory');
  const build = await buildWeb({
    ...(outDir ? { outDir } : {}),
    watch,
    onRebuild: ({ errors }) => console.log(errors ? `web: rebuild failed (${errors} errors)` : 'web: rebuilt'),
  });
  console.log(`web: built into ${relative(process.cwd(), build.outDir) || '.'}${watch ? ' (watching)' : ''}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
