// COPY --from reads a stage's files once: their digest is kept by the stage's layers (their chain
// id) and the plan (<store>/cache/plan-digests.json), so that a rebuild reads none of them (strace
// says so), while a stage whose content changed is read again and copied as it now is.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { busyboxProject, TSBUILD } from './project.js';

const STRACE = '/usr/bin/strace';
const STEPS = [
  'ARG V=1',
  'RUN mkdir /data && i=0; while [ $i -lt 50 ]; do echo "file $i" > /data/f$i; i=$((i+1)); done; echo "$V" > /data/v',
  'FROM scratch',
  'COPY --from=base /data /data',
  'CMD ["none"]',
];

t.test('a rebuild reads nothing of the stage COPY --from copies; a changed stage is read again', { skip: !fs.existsSync(STRACE) && 'strace is not installed' }, async (t) => {
  const p = busyboxProject(t, STEPS);
  const first = p.build(['-t', 'plans:1']);
  t.equal(first.status, 0, first.stderr);
  const table = JSON.parse(fs.readFileSync(path.join(p.root, 'cache', 'plan-digests.json'), 'utf8')) as { plans: Record<string, string> };
  t.equal(Object.keys(table.plans).length, 1, 'the plan COPY --from read is kept');

  const trace = path.join(p.dir, 'trace');
  const r = spawnSync(STRACE, ['-f', '-qq', '-y', '--seccomp-bpf', '-e', 'trace=read,pread64', '-o', trace, TSBUILD, 'build', '--root', p.root, '-t', 'plans:2', path.join(p.dir, 'ctx')],
    { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(r.status, 0, r.stderr);
  const log = fs.readFileSync(trace, 'utf8');
  t.ok(/read\(\d+<\/[^>]*\.json>/.test(log), 'the trace shows what was read, by path');
  t.notMatch(log, /\/data\/(f\d+|v)>/, 'no file of the stage was read');

  const changed = p.build(['--build-arg', 'V=2', '-t', 'plans:3']);
  t.equal(changed.status, 0, changed.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('plans:3'), 'data', 'v'), 'utf8'), '2\n', 'the stage built anew is copied as it now is');
  t.equal(fs.readFileSync(path.join(p.unpack('plans:1'), 'data', 'v'), 'utf8'), '1\n');
});

t.test('the digests of stages whose snapshots are pruned are forgotten', async (t) => {
  const p = busyboxProject(t, STEPS);
  t.equal(p.build(['-t', 'plans:1']).status, 0);
  const file = path.join(p.root, 'cache', 'plan-digests.json');
  t.equal(Object.keys((JSON.parse(fs.readFileSync(file, 'utf8')) as { plans: object }).plans).length, 1);
  const prune = spawnSync(TSBUILD, ['prune', '--all', '--root', p.root], { encoding: 'utf8' });
  t.equal(prune.status, 0, prune.stderr);
  // A build that copies nothing from a stage still saves the table, without the pruned entry.
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\n');
  t.equal(p.build(['-t', 'other:1']).status, 0);
  t.same((JSON.parse(fs.readFileSync(file, 'utf8')) as { plans: object }).plans, {}, 'the entry of the pruned snapshot is gone');
});
