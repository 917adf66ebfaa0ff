// Development stand-in helper, preloaded (`node -r`) into child processes that the local stack
// spawns (cognito-local). The parent always opens an IPC channel; when the parent goes away for
// any reason (normal exit, crash, SIGKILL), the channel closes and this child exits too, so no
// orphaned emulator keeps holding a port.
if (typeof process.send === 'function') {
  process.on('disconnect', () => process.exit(0));
  // The IPC channel must not keep the child alive by itself, nor keep it from exiting.
  if (process.channel && typeof process.channel.unref === 'function') process.channel.unref();
}
