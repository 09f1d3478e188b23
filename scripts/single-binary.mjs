// What both packages' bundle scripts do with their output (packages/*/scripts/bundle.mjs): swap a
// freshly built bundle directory in whole, and compile a single binary with the Bun that npm
// brought, written beside and renamed over. Either way a command running meanwhile (a test, a
// bench, containerd's next call) finds the old output or the new one, never half of one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUN = fileURLToPath(new URL('../node_modules/@oven/bun-linux-x64/bin/bun', import.meta.url));

/** Replaces the directory `dir` with `${dir}.new`, which the caller has just built. */
export function swapInDirectory(dir) {
  fs.rmSync(`${dir}.old`, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, `${dir}.old`);
  fs.renameSync(`${dir}.new`, dir);
  fs.rmSync(`${dir}.old`, { recursive: true, force: true });
}

/**
 * Compiles `entry` (relative to `cwd`) into the executable `binary`: Bun with the code as bytecode.
 * --splitting keeps each dynamic import's modules in a chunk whose bytecode loads only when
 * imported. A program run as root must not read a .env or bunfig.toml from its working directory
 * (a bundle's, a build context's): that would let whoever wrote it set its environment or preload
 * code. `extra` adds flags (--define). Where npm brought no Bun, a stale binary is removed.
 */
export function compileSingleBinary({ cwd, entry, binary, extra = [] }) {
  if (!fs.existsSync(BUN)) {
    fs.rmSync(binary, { force: true });
    return;
  }
  const compiled = spawnSync(BUN, ['build', '--compile', '--bytecode', '--splitting', '--format=esm', '--external', 'koffi',
    '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig', ...extra, '--outfile', `${binary}.new`, entry],
  { cwd, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`bun build --compile failed:\n${compiled.stdout}${compiled.stderr}`);
  fs.renameSync(`${binary}.new`, binary);
}
