// A root process inside a container, with CAP_SYS_PTRACE, attacks every process the runtime
// starts in it (attacks/proc-snoop.c): it writes a host file through any thread whose root is still
// the host's, and reopens for writing any runtime binary behind /proc/PID/exe (CVE-2019-5736).
// It runs while the container is created and started and while `exec` starts processes in it;
// the host file and the runtime's binaries must come out untouched.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

const ATTACKER_SOURCE = fileURLToPath(new URL('../../attacks/proc-snoop.c', import.meta.url));
const NSEXEC = fileURLToPath(new URL('../../../packages/runtime/native/out/tsrunc-nsexec', import.meta.url));
const BUN = fileURLToPath(new URL('../../../node_modules/@oven/bun-linux-x64/bin/bun', import.meta.url));
const SINGLE_BINARY = fileURLToPath(new URL('../../../packages/runtime/dist/tsrunc', import.meta.url));
/** The host binaries a stage inside the container runs from: the native stage, the JS engines, tsrunc's single binary. */
const HOST_BINARIES = [NSEXEC, process.execPath, ...[BUN, SINGLE_BINARY].filter((file) => fs.existsSync(file))];
const ATTACK_MS = 6000;

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

t.test('exec and start: a ptrace-capable root in the container reaches no host file or binary', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-escape-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const marker = path.join(work, 'host-marker');
  fs.writeFileSync(marker, 'original\n');
  const before = { marker: fs.statSync(marker), binaries: HOST_BINARIES.map(sha256) };

  const spec = baseSpec(['sleep', '300']);
  const caps = spec.process!.capabilities!;
  for (const set of [caps.bounding!, caps.effective!, caps.permitted!]) set.push('CAP_SYS_PTRACE');
  const bundle = makeBundle(t, spec);
  const build = spawnSync('gcc', ['-static', '-O2', '-o', path.join(bundle.rootfs, 'bin/proc-snoop'), ATTACKER_SOURCE], { encoding: 'utf8' });
  t.equal(build.status, 0, `the attacker builds: ${build.stderr}`);

  const rt = runtime(t);
  const id = uniqueId('escape');
  t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 0, 'create');
  // Into the created container, so that it also watches `start` hand over to the program.
  const attack = rt.call(['exec', '--detach', id, 'sh', '-c', `proc-snoop ${marker} ${ATTACK_MS} > /attack.out 2>&1`]);
  t.equal(attack.status, 0, `the attacker runs: ${attack.stderr}`);
  t.equal(rt.call(['start', id]).status, 0, 'start');
  for (let i = 0; i < 25; i++) {
    const exec = rt.call(['exec', id, 'true']);
    t.equal(exec.status, 0, `exec ${i}: ${exec.stderr}`);
  }
  const report = path.join(bundle.rootfs, 'attack.out');
  const deadline = Date.now() + ATTACK_MS + 10_000;
  while (!/seen=/.test(fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : '') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const summary = /seen=(\d+) reached=(\d+) exe_opened=(\d+) exe_written=(\d+)/.exec(fs.readFileSync(report, 'utf8'));
  t.ok(summary, 'the attacker reports');
  const [seen, reached, , exeWritten] = summary!.slice(1).map(Number);
  t.ok(seen! > 0, `the attacker saw the runtime's processes (${seen} sightings)`);
  t.equal(reached, 0, 'no thread of the runtime led to the host file');
  t.equal(exeWritten, 0, 'no runtime binary could be reopened for writing');
  t.equal(fs.readFileSync(marker, 'utf8'), 'original\n', 'the host file is unchanged');
  t.equal(fs.statSync(marker).mtimeMs, before.marker.mtimeMs, 'the host file was not written');
  t.same(HOST_BINARIES.map(sha256), before.binaries, `the runtime's binaries on the host are unchanged (${HOST_BINARIES.join(', ')})`);
});
