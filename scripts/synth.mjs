#!/usr/bin/env node
/**
 * `npm run synth`: `cdk synth` offline, with no AWS credentials and nothing written outside the
 * project. The stacks use no context lookups, so a placeholder account/region is all the CLI
 * needs; real values from the environment win. Exits with the CLI's status (non-zero on any
 * synth error or cdk-nag finding). Extra arguments pass through: `npm run synth -- -c stage=prod`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cdkHome = join(root, '.cdk-home');
const tmp = join(root, '.tmp');
mkdirSync(cdkHome, { recursive: true });
mkdirSync(tmp, { recursive: true });

const env = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: '1',
  CDK_HOME: cdkHome,
  // The CLI (and npm/npx under it) write caches and notices state under HOME and TMPDIR.
  HOME: cdkHome,
  TMPDIR: tmp,
  CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION || process.env.AWS_REGION || 'us-east-1',
  CDK_DEFAULT_ACCOUNT: process.env.CDK_DEFAULT_ACCOUNT || '000000000000',
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
};
// Credentials or a profile would make the CLI try STS; synth needs neither.
for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
  delete env[name];
}

const cdkBin = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const args = [cdkBin, 'synth', '--no-notices', '--no-version-reporting', '--quiet', ...process.argv.slice(2)];
const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });

if (result.error) {
  console.error(`synth: could not start the CDK CLI: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) {
  console.error(`synth: cdk synth failed (exit ${result.status ?? result.signal})`);
  process.exit(result.status || 1);
}
