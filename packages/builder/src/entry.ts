// tsbuild's entry point. It loads the command line (tsbuild.ts) itself, so that failing even to
// load it (EMFILE under a tight `ulimit -n`, a module that cannot be read) ends in the one line
// every other failure ends in, not in Node's report and stack trace.
try {
  await import('./tsbuild.js');
} catch (err) {
  process.stderr.write(`tsbuild: error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  process.exit(1);
}
