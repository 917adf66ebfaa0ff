// Development stand-in helper: runs a non-Node child (DynamoDB Local's Java process) on behalf of
// the local stack and ties its life to the parent's. The parent spawns this script with an IPC
// channel; when the parent goes away for any reason (normal exit, crash, SIGKILL) the channel
// closes and the guarded process is killed, so no orphaned emulator keeps holding a port.
//
// The guarded pid is reported over IPC (`{ pid }`) so the parent can kill the child itself when
// this guardian cannot pass a signal on (e.g. it was SIGKILLed). The guardian exits only once the
// child has exited and been reaped, so a dead child never lingers as a zombie.
const { spawn } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: process-guardian.cjs <command> [args…]');
  process.exit(2);
}
/** How long the child gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;

let child;
let stopping = false;
const stop = (signal) => {
  stopping = true;
  // Not started (or already gone): nothing to wait for.
  if (!child || child.exitCode !== null || child.signalCode !== null) process.exit(0);
  child.kill(signal);
  if (signal !== 'SIGKILL') setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS).unref();
};
// Installed before the child exists, so no signal can arrive between its start and our handlers.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => stop('SIGTERM'));
if (typeof process.send === 'function') process.on('disconnect', () => stop('SIGKILL'));

child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
child.on('spawn', () => {
  if (process.connected) process.send({ pid: child.pid });
});
child.on('exit', (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
child.on('error', (error) => {
  console.error(`process-guardian: cannot run ${command}: ${error.message}`);
  process.exit(1);
});
