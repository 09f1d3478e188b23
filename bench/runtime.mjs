#!/usr/bin/env node
// Runtime benchmark: tsrunc (under each JS engine its launcher supports, and as its single binary), runc and crun on the same
// busybox bundle in one run. Each call containerd makes is timed on its own (create, start, state,
// exec, kill, delete of a `sleep` container), with the whole lifecycle, `run` of /bin/true, the
// start-up of single CLI calls, and the resident memory of a created container's init.
// Prints medians and ratios to runc.
//   node bench/runtime.mjs [iterations]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec } from '@tsrunc/runtime';
import { makeBusyboxRootfs } from '@tsrunc/runtime/testing';

const iterations = Number(process.argv[2] ?? 20);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const tsrunc = path.join(repo, 'packages/runtime/bin/tsrunc');
const bun = path.join(repo, 'node_modules/@oven/bun-linux-x64/bin/bun');
const singleBinary = path.join(repo, 'packages/runtime/dist/tsrunc');
/** [name, binary, extra environment] */
const runtimes = [
  ['tsrunc/node', tsrunc, { TSRUNC_ENGINE: 'node' }],
  ...(fs.existsSync(bun) ? [['tsrunc/bun', tsrunc, { TSRUNC_ENGINE: 'bun' }]] : []),
  ...(fs.existsSync(singleBinary) ? [['tsrunc/binary', tsrunc, { TSRUNC_ENGINE: 'binary' }]] : []),
  ['runc', '/usr/sbin/runc', {}],
  ['crun', '/usr/bin/crun', {}],
].filter(([, bin]) => fs.existsSync(bin));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

function makeBundle(name, args) {
  const bundle = path.join(work, name);
  makeBusyboxRootfs(path.join(bundle, 'rootfs'));
  const spec = defaultSpec(false);
  spec.process.terminal = false;
  spec.process.args = args;
  // Debian's crun only accepts 1.0.x documents; every runtime here reads those the same way.
  spec.ociVersion = '1.0.2';
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}
const trueBundle = makeBundle('true', ['/bin/true']);
const sleepBundle = makeBundle('sleep', ['sleep', '600']);

// Errors go to a file, not a pipe: a created container's init inherits it and would hold a pipe
// open until it exits (containerd hands runtimes fifos for the same reason).
const errors = path.join(work, 'stderr');

function call([, bin, env], root, args) {
  const errorFd = fs.openSync(errors, 'w');
  const start = process.hrtime.bigint();
  const r = spawnSync(bin, ['--root', root, ...args], { stdio: ['ignore', 'ignore', errorFd], env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fs.closeSync(errorFd);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${fs.readFileSync(errors, 'utf8').trim()}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rssOfCreated(runtime, root, id) {
  const state = spawnSync(runtime[1], ['--root', root, 'state', id], { encoding: 'utf8', env: { ...process.env, ...runtime[2] } });
  const pid = JSON.parse(state.stdout).pid;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** Samples per runtime of each named measure, taken round-robin so that load hits all alike. */
const samples = new Map();
function record(runtime, measure, value) {
  const key = `${measure}\0${runtime}`;
  if (!samples.has(key)) samples.set(key, []);
  samples.get(key).push(value);
}

const usable = runtimes.filter((runtime) => {
  const root = path.join(work, `probe-${runtime[0].replace('/', '-')}`);
  try {
    call(runtime, root, ['run', '--bundle', trueBundle, 'probe']);
    return true;
  } catch (err) {
    console.log(`${runtime[0]}: cannot run here, left out: ${err.message.split('\n').pop() || err.message}`);
    return false;
  }
});

for (let i = 0; i < iterations; i++) {
  for (const runtime of usable) {
    const name = runtime[0];
    const root = path.join(work, `root-${name.replace('/', '-')}`);
    const id = `bench-${i}`;
    record(name, 'run /bin/true', call(runtime, root, ['run', '--bundle', trueBundle, `${id}-true`]));
    const phases = [
      ['create', ['create', '--bundle', sleepBundle, id]],
      ['start', ['start', id]],
      ['state', ['state', id]],
      ['exec true', ['exec', id, 'true']],
      ['kill', ['kill', id, 'KILL']],
      ['delete --force', ['delete', '--force', id]],
    ];
    let lifecycle = 0;
    for (const [measure, args] of phases) {
      const ms = call(runtime, root, args);
      lifecycle += ms;
      record(name, measure, ms);
      if (measure === 'create') record(name, 'RSS of a created init (MiB)', rssOfCreated(runtime, root, id));
    }
    record(name, 'lifecycle (sum of the above)', lifecycle);
    record(name, '--version', call(runtime, root, ['--version']));
    record(name, 'list', call(runtime, root, ['list']));
  }
}

console.log(`host: ${os.cpus().length} cpus, load ${os.loadavg()[0].toFixed(2)}, node ${process.version}; medians of ${iterations}, ms unless said`);
const measures = [...new Set([...samples.keys()].map((key) => key.split('\0')[0]))];
for (const measure of measures) {
  console.log(`\n${measure}`);
  const base = samples.has(`${measure}\0runc`) ? median(samples.get(`${measure}\0runc`)) : undefined;
  for (const [name] of usable) {
    const values = samples.get(`${measure}\0${name}`);
    if (!values) continue;
    const m = median(values);
    console.log(`  ${name.padEnd(12)} ${m.toFixed(1).padStart(8)}${base ? `   x${(m / base).toFixed(2)} of runc` : ''}`);
  }
}
