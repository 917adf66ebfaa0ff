/**
 * `npm run dev`: the whole product on one machine, in one command, with no AWS account (see
 * `dev/stack.ts` for what runs where). This is the command line: options, signals, the banner.
 *
 *   npm run dev [-- --persist | --state-dir <dir>]     EMBED_DEV_PORT=<n> changes the port
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { banner } from './dev/banner.ts';
import { type DevStack, startDevStack } from './dev/stack.ts';

// Programmatic use (tests, benchmarks).
export { type DevStack, type DevStackOptions, type DevStackUrls, startDevStack } from './dev/stack.ts';

/** Default on-disk state directory for `--persist`. */
export const DEFAULT_STATE_DIR = join(resolve(import.meta.dirname, '..'), '.local', 'dev-state');

async function main(argv: readonly string[]): Promise<void> {
  // Development runs on whatever Node the machine has; the SDK's advice to move to Node 22 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      [
        'Usage: npm run dev [-- --persist] [-- --state-dir <dir>]',
        '',
        '  --persist            keep state on disk under .local/dev-state (also: EMBED_DEV_STATE_DIR=<dir>)',
        '  --state-dir <dir>    keep state on disk in <dir>',
        '  EMBED_DEV_PORT=<n>   port on 127.0.0.1 (default 4000)',
      ].join('\n'),
    );
    return;
  }
  const stateDirIndex = argv.indexOf('--state-dir');
  const stateDir =
    stateDirIndex >= 0
      ? argv[stateDirIndex + 1]
      : process.env.EMBED_DEV_STATE_DIR || (argv.includes('--persist') ? DEFAULT_STATE_DIR : undefined);
  if (stateDirIndex >= 0 && !stateDir) throw new Error('--state-dir needs a directory');

  // Signals that arrive while starting must still stop what has started.
  let stack: DevStack | undefined;
  let stopRequested = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      console.log(`dev: ${signal} again; still stopping (children are killed within a few seconds)`);
      return;
    }
    stopRequested = true;
    console.log(`\ndev: ${signal}, stopping…`);
    // Still starting: main() stops what has started once startDevStack settles.
    if (!stack) return;
    // A stuck child must not keep the terminal forever.
    setTimeout(() => {
      console.error('dev: shutdown timed out');
      process.exit(1);
    }, 15_000).unref();
    void stack.stop().then(() => {
      console.log('dev: stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const started = Date.now();
  try {
    stack = await startDevStack({
      ...(stateDir ? { stateDir } : {}),
      watchWeb: true,
      writeRuntimeFile: true,
    });
  } catch (error) {
    // startDevStack has already stopped whatever it had started.
    if (stopRequested) process.exit(0);
    throw error;
  }
  if (stopRequested) {
    await stack.stop();
    console.log('dev: stopped');
    process.exit(0);
  }
  console.log(
    banner(stack, { stateDir: stateDir ? resolve(stateDir) : undefined, seconds: (Date.now() - started) / 1000 }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`dev: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    process.exit(1);
  });
}
