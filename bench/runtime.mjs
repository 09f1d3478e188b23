#!/usr/bin/env node
// Runtime benchmark: `run` of /bin/true on one bundle with tsrunc, runc and crun in the same
// run, and the start-up time of single CLI calls. Prints medians and ratios to runc.
//   node bench/runtime.mjs [iterations]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const iterations = Number(process.argv[2] ?? 30);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { makeBusyboxRootfs } = await import(path.join(repo, 'packages/runtime/dist/src/testing/busybox-rootfs.js'));
const { defaultSpec } = await import(path.join(repo, 'packages/runtime/dist/src/container/spec-template.js'));

const runtimes = [
  ['tsrunc', path.join(repo, 'packages/runtime/bin/tsrunc')],
  ['runc', '/usr/sbin/runc'],
  ['crun', '/usr/bin/crun'],
].filter(([, bin]) => fs.existsSync(bin));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const bundle = path.join(work, 'bundle');
makeBusyboxRootfs(path.join(bundle, 'rootfs'));
const spec = defaultSpec(false);
spec.process.terminal = false;
spec.process.args = ['/bin/true'];
// Debian's crun only accepts 1.0.x documents; every runtime here reads those the same way.
spec.ociVersion = '1.0.2';
fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));

function time(bin, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !args.includes('state')) throw new Error(`${bin} ${args.join(' ')}: ${String(r.stderr).trim()}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(label, argsFor) {
  const results = {};
  for (const [name, bin] of runtimes) {
    const root = path.join(work, `root-${name}`);
    try {
      time(bin, ['--root', root, ...argsFor(0)]); // warm-up
    } catch (err) {
      console.log(`  ${name}: cannot run here, left out: ${err.message.split('\n').pop() || err.message}`);
      continue;
    }
    const samples = [];
    for (let i = 1; i <= iterations; i++) samples.push(time(bin, ['--root', root, ...argsFor(i)]));
    results[name] = median(samples);
  }
  const base = results.runc;
  console.log(`\n${label} (median of ${iterations}, ms)`);
  for (const [name, ms] of Object.entries(results)) {
    console.log(`  ${name.padEnd(8)} ${ms.toFixed(1).padStart(8)}${base ? `   x${(ms / base).toFixed(2)} of runc` : ''}`);
  }
}

console.log(`host: ${os.cpus().length} cpus, node ${process.version}, NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}`);
measure('run /bin/true', (i) => ['run', '--bundle', bundle, `bench-${process.pid}-${i}`]);
measure('--version', () => ['--version']);
measure('state of a missing container', () => ['state', 'nope']);
measure('list (empty root)', () => ['list']);
