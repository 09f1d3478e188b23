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
fs.rmSync(`${dist}bundle.old`, { recursive: true, force: true });
if (fs.existsSync(`${dist}bundle`)) fs.renameSync(`${dist}bundle`, `${dist}bundle.old`);
fs.renameSync(`${dist}bundle.new`, `${dist}bundle`);
fs.rmSync(`${dist}bundle.old`, { recursive: true, force: true });

const bun = fileURLToPath(new URL('../../../node_modules/@oven/bun-linux-x64/bin/bun', import.meta.url));
const binary = path.join(dist, 'tsrunc');
if (!fs.existsSync(bun)) fs.rmSync(binary, { force: true });
else {
  // Written beside and renamed over, so that a tsrunc call running meanwhile finds a whole binary.
  // --splitting keeps each dynamic import's modules in a chunk of their own inside the binary, whose
  // bytecode is loaded only when a command imports it (`state` went from 18 to 13 ms of CPU).
  // A runtime run as root by containerd in a bundle directory must not read a .env or bunfig.toml
  // from its working directory: that would let the bundle's author set tsrunc's environment
  // (the lookups also cost a directory walk per call).
  const compiled = spawnSync(bun, ['build', '--compile', '--bytecode', '--splitting', '--format=esm', '--external', 'koffi',
    '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig',
    '--define', `TSRUNC_COMMIT=${JSON.stringify(commit)}`, '--outfile', `${binary}.new`, 'src/cli/binary-entry.js'],
  { cwd: dist, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`bun build --compile failed:\n${compiled.stdout}${compiled.stderr}`);
  fs.renameSync(`${binary}.new`, binary);
}
