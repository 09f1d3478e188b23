// Bundles tsrunc's two entry points (the CLI and the init stage) from the compiled
// modules into dist/bundle, for start-up time: Node's ESM loader costs about half a millisecond
// per module, and every container start runs a CLI and an init stage (~20 ms saved on each).
// Dynamic imports stay separate chunks, so that a command loads only what it uses (koffi, the
// schemas, the cgroup code). Entries and chunks sit two levels below dist/, as the compiled
// modules do, so that launch/paths.ts finds the stages and the native binary from either.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Chunk names carry content hashes: the last build's must not linger beside this one's.
fs.rmSync(`${dist}bundle`, { recursive: true, force: true });

// The source the bundle was made from, for `tsrunc --version`'s "commit:" line, as runc's build
// stamps `git describe --dirty --long --always` into its binary.
const describe = spawnSync('git', ['describe', '--dirty', '--long', '--always'], { cwd: dist, encoding: 'utf8' });
const commit = describe.status === 0 ? describe.stdout.trim() : 'unknown';

await build({
  absWorkingDir: dist,
  entryPoints: ['src/cli/main.js', 'src/init/main.js'],
  outbase: 'src',
  outdir: 'bundle',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // A native addon, loaded from node_modules as it is.
  external: ['koffi'],
  define: { TSRUNC_COMMIT: JSON.stringify(commit) },
  logLevel: 'warning',
});
