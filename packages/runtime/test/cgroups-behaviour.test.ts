// Limits as the kernel enforces them, through whichever manager the host's layout selects (v1 on
// a v1 or hybrid host, v2 on a pure cgroup2 host such as the guest of conformance/vm/run.sh):
// a memory hog is OOM-killed, a fork bomb stops at pids.max, a frozen cgroup does not run, and a
// CPU quota caps a busy loop. Every cgroup and process made here is removed in teardown.
import * as fs from 'node:fs';
import t from 'tap';
import { detectCgroupMode, openCgroup } from '../src/cgroups/index.js';
import { cleanup, parked, release, sleep, waitExit } from './cgroup-processes.js';

const MiB = 1024 * 1024;
const mode = detectCgroupMode();
let counter = 0;
const uniqueId = (): string => `tsrunc-test-${process.pid}-${counter++}`;
console.log(`# cgroup v${mode.version}${mode.version === 2 ? ` at ${mode.unifiedRoot}` : ''}`);

t.test('a memory hog is OOM-killed and watchOom fires', async (t) => {
  const cg = openCgroup({ id: uniqueId(), systemd: false, resources: { memory: { limit: 32 * MiB, swap: 32 * MiB } } });
  const child = parked('x=$(head -c 200m /dev/zero | tr "\\0" a); echo survived >&2');
  t.teardown(() => cleanup(cg, [child]));
  cg.create();
  let ooms = 0;
  const stop = cg.watchOom(() => ooms++);
  t.teardown(stop);
  cg.addProcess(child.pid ?? -1);
  release(child);
  t.equal(await waitExit(child, 60000), 'SIGKILL', 'the shell holding the data was killed');
  for (let i = 0; i < 50 && ooms === 0; i++) await sleep(100);
  t.ok(ooms >= 1, `watchOom fired (${ooms} times)`);
  // failcnt is not asserted: with memory+swap set, v1 OOM-kills without counting.
  t.equal(cg.stats().memory.usage.max, 32 * MiB, 'peak usage reached the limit');
});

t.test('a fork bomb stops at pids.max', async (t) => {
  const limit = 10;
  const cg = openCgroup({ id: uniqueId(), systemd: false, resources: { pids: { limit } } });
  const child = parked('for i in $(seq 1 50); do sleep 30 & done; wait');
  t.teardown(() => cleanup(cg, [child]));
  cg.create();
  cg.addProcess(child.pid ?? -1);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  release(child);
  let most = 0;
  for (let i = 0; i < 40 && !/fork|Resource temporarily unavailable/i.test(stderr); i++) {
    most = Math.max(most, cg.pids().length);
    await sleep(50);
  }
  most = Math.max(most, cg.pids().length);
  t.ok(most <= limit, `at most ${limit} tasks (saw ${most})`);
  t.ok(most >= limit - 1, `the loop did reach the limit (saw ${most})`);
  t.match(stderr, /fork|Resource temporarily unavailable/i, 'fork failed in the shell');
});

/** A shell growing a file by a byte at a time, as fast as it can: its size shows whether it runs. */
function counting(file: string) {
  return parked(`while true; do printf . >> ${file}; done`);
}

t.test('a frozen cgroup does not run until it is thawed', async (t) => {
  const file = `/tmp/${uniqueId()}.count`;
  const cg = openCgroup({ id: uniqueId(), systemd: false });
  const child = counting(file);
  t.teardown(async () => {
    await cleanup(cg, [child]);
    fs.rmSync(file, { force: true });
  });
  cg.create();
  cg.addProcess(child.pid ?? -1);
  release(child);
  const count = () => (fs.existsSync(file) ? fs.statSync(file).size : 0);
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await sleep(50);
  cg.freeze();
  t.equal(cg.state(), 'frozen');
  const frozenAt = count();
  await sleep(500);
  t.equal(count(), frozenAt, 'the file stood still for 500 ms');
  cg.thaw();
  await sleep(300);
  t.ok(count() > frozenAt, `it grew once thawed (${frozenAt} -> ${count()} bytes)`);
});

t.test('a CPU quota caps a busy loop', async (t) => {
  // 20% of one CPU: 20 ms of every 100 ms period.
  const cg = openCgroup({ id: uniqueId(), systemd: false, resources: { cpu: { quota: 20000, period: 100000 } } });
  const child = parked('while :; do :; done');
  t.teardown(() => cleanup(cg, [child]));
  cg.create();
  cg.addProcess(child.pid ?? -1);
  release(child);
  await sleep(200);
  const before = cg.stats().cpu.usage.total;
  const started = process.hrtime.bigint();
  await sleep(2000);
  const share = (cg.stats().cpu.usage.total - before) / Number(process.hrtime.bigint() - started);
  t.ok(share > 0.05 && share < 0.3, `the loop got ${(share * 100).toFixed(1)}% of a CPU`);
  t.ok((cg.stats().cpu.throttling.throttledPeriods ?? 0) > 0, 'the kernel counted throttled periods');
});
