// Bundles tsrunc's CLI from the compiled modules into dist/bundle, for start-up time: Node's ESM
// loader costs about half a millisecond per module, and containerd runs the CLI several times
// per container.
// Dynamic imports stay separate chunks, so that a command loads only what it uses (koffi, the
// schemas, the cgroup code). Entries and chunks sit two levels below dist/, as the compiled
// modules do, so that launch/paths.ts finds the stages and the native binary from either.
// Where the project's install brought Bun, it also compiles dist/tsrunc: one executable with
// Bun and the CLI as bytecode, which the launcher prefers (half the CPU of each call:
// bench/runtime.mjs).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileSingleBinary, swapInDirectory } from '../../../scripts/single-binary.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Built beside the last bundle and swapped in whole, so that a tsrunc call running meanwhile (a
// test, a bench) finds one bundle or the other, never a half-written one. Chunk names carry
// content hashes: the last build's must not linger beside this one's.
fs.rmSync(`${dist}bundle.new`, { recursive: true, force: true });

// The source the bundle was made from, for `tsrunc --version`'s "commit:" line, as runc's build
// stamps `git describe --dirty --long --always` into its binary.
const describe = spawnSync('git', ['describe', '--dirty', '--long', '--always'], { cwd: dist, encoding: 'utf8' });
const commit = describe.status === 0 ? describe.stdout.trim() : 'unknown';

await build({
  absWorkingDir: dist,
  entryPoints: ['src/cli/main.js'],
  outbase: 'src',
  outdir: 'bundle.new',
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
swapInDirectory(`${dist}bundle`);
// Bytecode chunks per dynamic import: `state` went from 18 to 13 ms of CPU; no .env/bunfig lookups
// also spares each call a directory walk.
compileSingleBinary({
  cwd: dist,
  entry: 'src/cli/binary-entry.js',
  binary: path.join(dist, 'tsrunc'),
  extra: ['--define', `TSRUNC_COMMIT=${JSON.stringify(commit)}`],
});
