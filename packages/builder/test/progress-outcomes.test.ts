// How a build's vertices end, as BuildKit reports them: a step stopped by a sibling stage's
// failure is CANCELED and only the failure itself is an ERROR, in the plain log, the TTY view and
// the raw JSON stream (--progress=rawjson, one SolveStatus object per line).
import t from 'tap';
import { renderFrame } from '../src/engine/progress-frame.js';
import { busyboxProject } from './project.js';

/** A build whose stage "bad" fails while its sibling "slow" is running a long RUN. */
function failingBuild(t: { teardown(fn: () => void): void }) {
  return busyboxProject(t, [
    'FROM base AS slow',
    'RUN sleep 30',
    'FROM base AS bad',
    'RUN echo about to fail; sleep 2; exit 3',
    'FROM base',
    'COPY --from=slow /etc /slow',
    'COPY --from=bad /bin/sh /bad',
  ]);
}

t.test('a step stopped by a sibling stage\'s failure is CANCELED in the plain log, the failure an ERROR', async (t) => {
  const r = failingBuild(t).build(['--progress', 'plain', '--no-cache']);
  t.equal(r.status, 1, 'the build fails');
  const number = (title: string) => /^#(\d+) /.exec(r.stderr.split('\n').find((l) => l.endsWith(title)) ?? '')?.[1];
  const slow = number('[slow 2/2] RUN sleep 30');
  const bad = number('[bad 2/2] RUN echo about to fail; sleep 2; exit 3');
  t.ok(slow && bad, r.stderr);
  t.match(r.stderr, new RegExp(`^#${slow} CANCELED$`, 'm'), 'the sibling\'s running RUN is CANCELED');
  t.match(r.stderr, new RegExp(`^#${bad} ERROR: process "/bin/sh -c echo about to fail; sleep 2; exit 3" did not complete successfully: exit code: 3$`, 'm'),
    'the failing RUN is an ERROR with its error');
  t.notMatch(r.stderr, new RegExp(`^#${slow} (ERROR|DONE)`, 'm'), 'the cancelled step is neither an error nor done');
  t.equal(r.stderr.split('\n').filter((l) => / ERROR: /.test(l)).length, 1, 'one ERROR: the failure that caused the others');
});

t.test('--progress=rawjson streams one SolveStatus object per line', async (t) => {
  const r = failingBuild(t).build(['--progress', 'rawjson', '--no-cache']);
  t.equal(r.status, 1, 'the build fails');
  const all = r.stderr.trimEnd().split('\n');
  const end = all.findIndex((l) => l.startsWith('tsbuild: error: '));
  t.match(all[end], /^tsbuild: error: Dockerfile:\d+: process/, 'the error follows the stream');
  const lines = all.slice(0, end);
  interface Status { vertexes?: { digest: string; name: string; started: string; completed?: string; cached?: boolean; error?: string }[]; logs?: { vertex: string; stream: number; data: string; timestamp: string }[] }
  const statuses = lines.map((l) => JSON.parse(l) as Status);
  t.ok(statuses.every((s) => Object.keys(s).every((k) => k === 'vertexes' || k === 'logs')), 'each line is an object of vertexes and logs');
  const vertices = new Map<string, NonNullable<Status['vertexes']>[number]>();
  const updates = statuses.flatMap((s) => s.vertexes ?? []);
  t.ok(updates.every((v) => /^sha256:[0-9a-f]{64}$/.test(v.digest) && !Number.isNaN(Date.parse(v.started))), 'every vertex is named by a digest and has its start time');
  for (const v of updates) vertices.set(v.digest, v);
  const byName = (name: string) => [...vertices.values()].find((v) => v.name === name);
  const bad = byName('[bad 2/2] RUN echo about to fail; sleep 2; exit 3');
  const slow = byName('[slow 2/2] RUN sleep 30');
  t.match(bad, { error: 'process "/bin/sh -c echo about to fail; sleep 2; exit 3" did not complete successfully: exit code: 3' }, 'the failure carries its error');
  t.ok(bad?.completed !== undefined && !Number.isNaN(Date.parse(bad.completed)), 'and its completion time');
  t.match(slow, { error: 'context canceled' }, 'the cancelled step carries BuildKit\'s cancellation error');
  const copy = byName('[base 2/4] COPY busybox /bin/busybox');
  t.ok(copy?.completed !== undefined && copy.error === undefined, 'a done vertex is completed, without an error');
  const logs = statuses.flatMap((s) => s.logs ?? []).filter((l) => l.vertex === bad?.digest);
  t.same(logs.map((l) => Buffer.from(l.data, 'base64').toString('utf8')), ['about to fail\n'], 'the step\'s output is a log of its vertex, base64');
  t.ok(logs.every((l) => l.stream === 1 && !Number.isNaN(Date.parse(l.timestamp))), 'on stream 1, with a timestamp');
  t.notOk(lines.some((l) => l.startsWith('#')), 'nothing of the plain log is mixed in');
});

t.test('the TTY view marks a cancelled vertex CANCELED and a failed one ERROR, keeping the failure\'s log', async (t) => {
  const frame = renderFrame([
    { title: '[a 2/2] RUN sleep 30', started: 0, ended: 3000, cached: false, outcome: 'canceled', logTail: ['waiting'] },
    { title: '[b 2/2] RUN exit 3', started: 0, ended: 2000, cached: false, outcome: 'error', logTail: ['about to fail'] },
    { title: '[c 1/1] FROM base', started: 0, ended: 10, cached: false, logTail: [] },
  ], { now: 4000, started: 0, width: 50, height: Infinity, final: true }).map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  t.match(frame[0], /^\[\+\] Building 4\.0s \(1\/3\)$/, 'neither counts as finished, and the build is not FINISHED');
  t.match(frame[1], /^ => CANCELED \[a 2\/2\] RUN sleep 30 +3\.0s$/, 'the cancelled vertex, its clock stopped when it was');
  t.match(frame[2], /^ => ERROR \[b 2\/2\] RUN exit 3 +2\.0s$/, 'the failed one');
  t.equal(frame[3], ' => => # about to fail', 'the failure\'s log stays, the cancelled one\'s does not');
  t.equal(frame.length, 5, 'nothing else');
});
