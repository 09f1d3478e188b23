#!/usr/bin/env node
// A large config.json: `create` (then `delete --force`) of a bundle whose config.json is SIZE MB,
// made large by annotations and process.env, with tsrunc and runc side by side. This times every
// pass over it: reading, validation, the plans sent to the container's process and the state written. The goal is to stay within 2x of runc, linear in SIZE.
//   node bench/config-size.mjs [SIZE_MB=16] [iterations=3]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec } from '@tsrunc/runtime';
import { makeBusyboxRootfs } from '@tsrunc/runtime/testing';

const sizeMb = Number(process.argv[2] ?? 16);
const iterations = Number(process.argv[3] ?? 3);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const runtimes = [
  ['tsrunc', path.join(repo, 'packages/runtime/bin/tsrunc')],
  ['runc', '/usr/sbin/runc'],
].filter(([, bin]) => fs.existsSync(bin));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const bundle = path.join(work, 'bundle');
makeBusyboxRootfs(path.join(bundle, 'rootfs'));

/** Half the bytes in annotations, half in environment variables, 1 KB each. */
function bigSpec(bytes) {
  const spec = defaultSpec(false);
  spec.process.terminal = false;
  spec.process.args = ['sleep', '1000'];
  spec.annotations = {};
  const value = 'x'.repeat(1000);
  for (let i = 0, size = 0; size < bytes; i++, size += 2 * 1024) {
    spec.annotations[`bench.annotation.${i}`] = value;
    spec.process.env.push(`BENCH_${i}=${value}`);
  }
  return spec;
}

const configPath = path.join(bundle, 'config.json');
fs.writeFileSync(configPath, JSON.stringify(bigSpec(sizeMb * 1024 * 1024)));

/** stderr goes to a file: the created container's init inherits it, and a pipe would stay open. */
function call(bin, args) {
  const errorFile = path.join(work, 'stderr');
  const errorFd = fs.openSync(errorFile, 'w');
  try {
    const start = process.hrtime.bigint();
    const r = spawnSync(bin, args, { stdio: ['ignore', 'ignore', errorFd], timeout: 600_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')}: ${r.error?.message ?? fs.readFileSync(errorFile, 'utf8').trim()}`);
    return ms;
  } finally {
    fs.closeSync(errorFd);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`host: ${os.cpus().length} cpus, node ${process.version}; config.json ${(fs.statSync(configPath).size / 2 ** 20).toFixed(1)} MB`);
const results = {};
for (const [name, bin] of runtimes) {
  const root = path.join(work, `root-${name}`);
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const id = `bench-${process.pid}-${i}`;
    try {
      samples.push(call(bin, ['--root', root, 'create', '--bundle', bundle, id]));
    } finally {
      spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 60_000 });
    }
  }
  results[name] = median(samples);
}
console.log(`\ncreate with a ${sizeMb} MB config.json (median of ${iterations}, ms)`);
for (const [name, ms] of Object.entries(results)) {
  console.log(`  ${name.padEnd(8)} ${ms.toFixed(1).padStart(9)}${results.runc ? `   x${(ms / results.runc).toFixed(2)} of runc` : ''}`);
}
