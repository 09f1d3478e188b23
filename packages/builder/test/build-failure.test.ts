// What a failed build leaves and says, as BuildKit's solver has it: the first failure cancels the
// steps running beside it, waits for them, releases their mounts and reports itself; and every
// step that completed before it is in the cache for the next build.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { busyboxProject, count, project, TSBUILD, TSRUNC } from './project.js';

/** The containers tsrunc still knows in the build's state root (TMPDIR/tsrunc). */
function containersLeft(tmpdir: string): string[] {
  const root = path.join(tmpdir, 'tsrunc');
  if (!fs.existsSync(root)) return [];
  const r = spawnSync(TSRUNC, ['--root', root, 'list', '-q'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsrunc list: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** The pids of processes whose command line holds `marker`. */
function processesWith(marker: string): string[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Mount points below `dir` (the project: its store and its TMPDIR) still in this namespace. */
function mountsBelow(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`));
}

t.test("a failing stage cancels a sibling's running RUN and reports its own error, leaving no container or mount", async (t) => {
  // In the cmdline of the sibling's shell while its sleep runs: how the test finds it left running.
  const marker = `slept-${process.pid}`;
  const p = busyboxProject(t, [
    'FROM base AS slow',
    `RUN sleep 30 && echo ${marker} > /slow`,
    'FROM base AS bad',
    // A moment first, so that the sibling's container is surely running when this one fails.
    'RUN sleep 2; exit 3',
    'FROM base',
    'COPY --from=slow /slow /slow',
    'COPY --from=bad /bin/sh /bad',
  ]);
  const started = Date.now();
  const r = p.build(['--progress', 'plain', '--no-cache']);
  const seconds = (Date.now() - started) / 1000;
  t.equal(r.status, 1, 'the build fails');
  const error = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('tsbuild: error: '));
  t.equal(error.length, 1, r.stderr);
  t.match(error[0], /^tsbuild: error: Dockerfile:8: process "\/bin\/sh -c sleep 2; exit 3" did not complete successfully: exit code: 3$/,
    'the error is the failing step\'s, naming its line');
  t.notMatch(r.stderr, /EBUSY|interrupted/, 'no cleanup error or cancellation of the sibling is reported');
  // Not cancelled, the sibling alone would take 30 s after the base stage.
  t.ok(seconds < 25, `the build ends well before the sibling's sleep 30 would (${seconds.toFixed(1)}s)`);
  t.same(processesWith(marker), [], 'the sibling\'s process is gone');
  t.same(containersLeft(p.tmpdir), [], 'no RUN container is left in the builder\'s state root');
  t.same(mountsBelow(p.dir), [], 'no overlay of the store or of the build\'s TMPDIR is left mounted');
});

t.test('the steps that succeeded before a failure are cached for the next build', async (t) => {
  // Each step appends to a file in a cache mount, which outlives the build: the file counts how
  // many times each step ran.
  const counted = (word: string) => `RUN --mount=type=cache,id=counter,target=/counter echo ${word} >> /counter/runs && echo ${word} > /${word}`;
  const dockerfile = (last: string) => [
    'FROM scratch AS base', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    counted('one'),
    'COPY marker /marker',
    counted('two'),
    'CMD ["/bin/sh"]',
    last,
    '',
  ].join('\n');
  const p = busyboxProject(t, [], { marker: 'm\n' });
  const write = (last: string) => fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), dockerfile(last));

  write('RUN exit 3');
  const failed = p.build(['--progress', 'plain']);
  t.equal(failed.status, 1, 'the first build fails at its last step');
  t.match(failed.stderr, /Dockerfile:8: process "\/bin\/sh -c exit 3" did not complete successfully: exit code: 3/);

  write('RUN --mount=type=cache,id=counter,target=/counter cp /counter/runs /runs');
  const fixed = p.build(['--progress', 'plain', '-t', 'fixed:test']);
  t.equal(fixed.status, 0, fixed.stderr);
  t.equal(count(fixed.stderr, 'CACHED'), 5, 'every step before the fixed one is CACHED (COPY, RUN, RUN, COPY, RUN)');
  const rootfs = p.unpack('fixed:test');
  t.equal(fs.readFileSync(path.join(rootfs, 'runs'), 'utf8'), 'one\ntwo\n', 'the counted steps ran once, in the failed build only');
  t.equal(fs.readFileSync(path.join(rootfs, 'two'), 'utf8'), 'two\n', 'the cached layers are in the image');
});

t.test('a build interrupted by SIGINT keeps the cache of the steps it completed', async (t) => {
  const p = busyboxProject(t, [
    'RUN --mount=type=cache,id=counter,target=/counter echo one >> /counter/runs',
    'RUN echo started && sleep 30',
  ]);
  const child = spawn(TSBUILD, ['build', '--root', p.root, '--progress', 'plain', path.join(p.dir, 'ctx')],
    { env: { ...process.env, TMPDIR: p.tmpdir }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let interrupted = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    // The sleeping step's container runs: the step before it is complete. One Ctrl-C.
    if (!interrupted && / started\n/.test(stderr)) interrupted = child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 1, `the interrupted build fails: ${stderr}`);
  t.match(stderr, /tsbuild: error: .*interrupted/);
  t.same(containersLeft(p.tmpdir), [], 'no RUN container is left');
  t.same(mountsBelow(p.dir), [], 'nothing is left mounted');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), fs.readFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'utf8')
    .replace('RUN echo started && sleep 30', 'RUN --mount=type=cache,id=counter,target=/counter cp /counter/runs /runs'));
  const again = p.build(['--progress', 'plain', '-t', 'again:test']);
  t.equal(again.status, 0, again.stderr);
  t.equal(count(again.stderr, 'CACHED'), 3, 'the steps completed before the interrupt are CACHED');
  t.equal(fs.readFileSync(path.join(p.unpack('again:test'), 'runs'), 'utf8'), 'one\n', 'the counted step ran once');
});

t.test('a stage whose FROM does not expand fails the builds that need it, no other', async (t) => {
  const p = project(t, { Dockerfile: 'ARG BASE\nFROM ${BASE:?unset} AS unused\nFROM scratch\nCOPY x /x\n', x: 'x\n' });
  const built = p.build(['--progress', 'plain']);
  t.equal(built.status, 0, built.stderr);
  const failed = p.build(['--progress', 'plain', '--target', 'unused']);
  t.equal(failed.status, 1);
  t.match(failed.stderr, /tsbuild: error: .*BASE: unset/);
});
