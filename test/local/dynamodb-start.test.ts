import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_DYNAMODB_LOCAL_START_TIMEOUT_MS,
  dynamoLocalStartTimeoutMs,
  startDynamoLocal,
} from '../../local/dynamodb.ts';

/**
 * A stand-in `java`, first on PATH: it writes its pid to a file, ignores SIGTERM and stays alive
 * without ever listening, like a JVM that is too slow to start on a busy machine. `exec` keeps the
 * pid and the ignored SIGTERM, so the pid in the file is the process that must not survive.
 */
const HANGING_JAVA = `#!/bin/sh
echo $$ > "$STAND_IN_PID_FILE"
trap '' TERM
exec sleep 1000
`;
/** A stand-in `java` that fails at once, like DynamoDB Local finding its port taken. */
const FAILING_JAVA = `#!/bin/sh
echo $$ > "$STAND_IN_PID_FILE"
echo "Could not start server on port: address already in use" >&2
exit 1
`;

let dir: string;
let pidFile: string;
const saved = { path: process.env.PATH, pidFile: process.env.STAND_IN_PID_FILE };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stand-in-java-'));
  pidFile = join(dir, 'java.pid');
  process.env.STAND_IN_PID_FILE = pidFile;
});
afterEach(() => {
  process.env.PATH = saved.path;
  if (saved.pidFile === undefined) delete process.env.STAND_IN_PID_FILE;
  else process.env.STAND_IN_PID_FILE = saved.pidFile;
  // A test that failed must not leave its stand-in behind either.
  if (existsSync(pidFile)) killQuietly(standInPid());
  rmSync(dir, { recursive: true, force: true });
});

/** Puts a stand-in `java` script first on PATH. */
function standInJava(script: string): void {
  writeFileSync(join(dir, 'java'), script);
  chmodSync(join(dir, 'java'), 0o755);
  process.env.PATH = `${dir}:${saved.path}`;
}

function standInPid(): number {
  return Number(readFileSync(pidFile, 'utf8').trim());
}

/** The errno of probing `pid` with signal 0: `ESRCH` once the process no longer exists. */
function probe(pid: number): string {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('startDynamoLocal on a failed start', () => {
  it('rejects after the start timeout and kills the Java process, even one that ignores SIGTERM', async () => {
    // Prepare
    standInJava(HANGING_JAVA);

    // Act
    const started = startDynamoLocal({ startTimeoutMs: 3000 });

    // Assess
    await expect(started).rejects.toThrow(
      /^DynamoDB Local did not answer on http:\/\/127\.0\.0\.1:\d+ within 3 s \(set DYNAMODB_LOCAL_START_TIMEOUT_MS to wait longer\); it was stopped\./,
    );
    expect(probe(standInPid())).toBe('ESRCH');
  });

  it('rejects with Java’s own error output when it exits before answering', async () => {
    standInJava(FAILING_JAVA);
    await expect(startDynamoLocal({ startTimeoutMs: 60_000 })).rejects.toThrow(
      /^DynamoDB Local exited \(1\) before answering: Could not start server on port: address already in use/,
    );
    expect(probe(standInPid())).toBe('ESRCH');
  });

  it('kills the Java process itself when its guardian dies and cannot pass a signal on', async () => {
    // Prepare
    standInJava(HANGING_JAVA);
    const started = startDynamoLocal({ startTimeoutMs: 60_000 });
    const outcome = started.catch((error: unknown) => error);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 20_000);
    const java = standInPid();
    const guardian = Number(readFileSync(`/proc/${java}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);

    // Act: the guardian is SIGKILLed (it cannot forward anything)
    process.kill(guardian, 'SIGKILL');

    // Assess
    expect(await outcome).toMatchObject({
      message: expect.stringMatching(/^DynamoDB Local exited \(SIGKILL\) before answering/),
    });
    expect(probe(java)).toBe('ESRCH');
  });

  it('reports a missing java', async () => {
    process.env.PATH = dir;
    await expect(startDynamoLocal({ startTimeoutMs: 60_000 })).rejects.toThrow(
      /^DynamoDB Local exited \(1\) before answering: process-guardian: cannot run java: spawn java ENOENT/,
    );
  });
});

describe('dynamoLocalStartTimeoutMs', () => {
  it.each([
    ['the default', undefined, {}, DEFAULT_DYNAMODB_LOCAL_START_TIMEOUT_MS],
    ['the environment variable', undefined, { DYNAMODB_LOCAL_START_TIMEOUT_MS: '90000' }, 90_000],
    ['the option over the environment', 5000, { DYNAMODB_LOCAL_START_TIMEOUT_MS: '90000' }, 5000],
    ['an empty variable as unset', undefined, { DYNAMODB_LOCAL_START_TIMEOUT_MS: ' ' }, 120_000],
  ])('takes %s', (_name, option, env, expected) => {
    expect(dynamoLocalStartTimeoutMs(option, env)).toBe(expected);
  });

  it.each([
    ['a word', undefined, { DYNAMODB_LOCAL_START_TIMEOUT_MS: 'soon' }, 'DYNAMODB_LOCAL_START_TIMEOUT_MS="soon"'],
    ['zero', undefined, { DYNAMODB_LOCAL_START_TIMEOUT_MS: '0' }, 'DYNAMODB_LOCAL_START_TIMEOUT_MS="0"'],
    ['a fraction', 1.5, {}, 'startTimeoutMs 1.5'],
    ['a negative option', -1, {}, 'startTimeoutMs -1'],
  ])('refuses %s', (_name, option, env, named) => {
    expect(() => dynamoLocalStartTimeoutMs(option, env)).toThrow(
      `DynamoDB Local start timeout must be a positive whole number of milliseconds, not ${named}`,
    );
  });

  it('is refused before anything starts', async () => {
    await expect(startDynamoLocal({ startTimeoutMs: 0 })).rejects.toThrow('startTimeoutMs 0');
  });
});
