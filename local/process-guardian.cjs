// Development stand-in helper: runs a non-Node child (DynamoDB Local's Java process) on behalf of
// the local stack and ties its life to the parent's. The parent spawns this script with an IPC
// channel; when the parent goes away for any reason (normal exit, crash, SIGKILL) the channel
// closes and the guarded process is killed, so no orphaned emulator keeps holding a port.
const { spawn } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: process-guardian.cjs <command> [args…]');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = (signal) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
child.on('error', (error) => {
  console.error(`process-guardian: ${error.message}`);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => stop('SIGTERM'));
if (typeof process.send === 'function') {
  process.on('disconnect', () => {
    stop('SIGKILL');
    process.exit(0);
  });
}
