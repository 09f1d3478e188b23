// Build progress: the TTY view's frames as a terminal receives them, and --progress /
// BUILDKIT_PROGRESS choosing between it and the plain log in the real CLI.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { TtyProgress } from '../src/engine/progress-tty.js';
import { project } from './project.js';

/** A terminal `columns` wide (and `rows` high, if given) that keeps everything written to it. */
function terminal(columns: number, rows?: number) {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns, ...(rows !== undefined ? { rows } : {}) });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]/g;

/** The frames drawn (each ends by clearing the rest of the screen), as the lines a viewer sees. */
function frames(text: string): string[][] {
  return text.split('\x1b[J').slice(0, -1).map((frame) => frame.replace(ESCAPE_SEQUENCE, '').split('\n').slice(0, -1));
}

const last = <T>(list: T[]): T => list[list.length - 1]!;

t.test('the TTY view draws running vertices together, with their logs, in place', async (t) => {
  const term = terminal(60);
  const progress = new TtyProgress(term.stream);
  t.teardown(() => progress.close());
  progress.step('[internal] load build definition from Dockerfile').done();
  progress.step('[a 2/3] COPY x /x').done(true);
  const a = progress.step(`[a 3/3] RUN make ${'all '.repeat(20)}`);
  const b = progress.step('[b 2/2] RUN ./configure');
  for (let i = 1; i <= 8; i++) a.log(`compiling ${i}.c`);
  b.log('\x1b[32mdownloading 10%\rdownloading 100%\x1b[0m\r');
  await sleep(400); // the timer draws logs, and moves the clocks

  const running = last(frames(term.text()));
  t.match(running[0], /^\[\+\] Building \d+\.\ds \(2\/4\)$/, 'header: elapsed time, finished/total vertices');
  t.match(running[1], /^ => \[internal\] load build definition from Dockerfile +\d\.\ds$/, 'a done vertex, its duration at the right edge');
  t.match(running[2], /^ => CACHED \[a 2\/3\] COPY x \/x +\d\.\ds$/, 'a CACHED vertex');
  const aLine = running.findIndex((l) => l.startsWith(' => [a 3/3] RUN make all all'));
  const bLine = running.findIndex((l) => l.startsWith(' => [b 2/2] RUN ./configure'));
  t.ok(aLine > 0 && bLine > aLine, 'both running vertices are in the same frame');
  t.match(running[aLine], /^ => \[a 3\/3\] RUN make [al ]+ \d+\.\ds$/, 'a long title is cut so that its clock stays at the edge');
  t.equal(running[aLine]!.length, 60, 'exactly as wide as the terminal');
  t.same(running.slice(aLine + 1, bLine), [3, 4, 5, 6, 7, 8].map((i) => ` => => # compiling ${i}.c`), 'the last 6 lines of a running log');
  t.equal(running[bLine + 1], ' => => # downloading 100%', 'a redrawn progress bar shows its last state, without escapes');
  t.ok(frames(term.text()).flat().every((l) => l.length <= 60), 'no line is wider than the terminal');
  t.match(running[bLine], /[1-9]\.\ds$|0\.[3-9]s$/, 'a running vertex has a live clock');
  t.match(term.text(), /\x1b\[\d+A\x1b\[2K\[\+\] Building/, 'each frame moves the cursor up over the last and clears its lines');

  a.done();
  const aDone = last(frames(term.text()));
  t.match(aDone[0], /\(3\/4\)$/, 'one more vertex finished');
  t.notOk(aDone.some((l) => l.includes('compiling')), 'a finished vertex\'s log collapses');
  t.ok(aDone.includes(' => => # downloading 100%'), 'the running vertex keeps its log');

  b.log('configure: error: no C compiler found');
  const drawn = frames(term.text()).length;
  progress.close();
  const final = last(frames(term.text()));
  t.equal(frames(term.text()).length, drawn + 1, 'close draws one final frame');
  t.match(final[0], /^\[\+\] Building \d+\.\ds \(3\/4\)$/, 'no FINISHED when a vertex failed');
  const failed = final.findIndex((l) => l.startsWith(' => ERROR [b 2/2] RUN ./configure'));
  t.match(final[failed], /^ => ERROR \[b 2\/2\] RUN \.\/configure +\d+\.\ds$/, 'the vertex that never ended failed');
  t.same(final.slice(failed + 1), [' => => # downloading 100%', ' => => # configure: error: no C compiler found'], 'its log stays on screen');
  const length = term.text().length;
  await sleep(300);
  t.equal(term.text().length, length, 'nothing is drawn after close');
});

t.test('a finished build\'s final frame says FINISHED', async (t) => {
  const term = terminal(60);
  const progress = new TtyProgress(term.stream);
  progress.step('[stage-0 1/1] FROM scratch').done();
  progress.step('exporting to image').done();
  progress.close();
  t.match(last(frames(term.text()))[0], /^\[\+\] Building \d\.\ds \(2\/2\) FINISHED$/, 'every vertex done');
});

t.test('on a short terminal, finished vertices give way to running ones', async (t) => {
  const term = terminal(60, 6);
  const progress = new TtyProgress(term.stream);
  t.teardown(() => progress.close());
  for (let i = 1; i <= 6; i++) progress.step(`[s ${i}/8] COPY ${i} /${i}`).done();
  const running = progress.step('[s 7/8] RUN sleep 1');
  running.log('still going');
  await sleep(300);
  const withoutClocks = last(frames(term.text())).map((l) => l.replace(/ +\d+\.\ds$/, ''));
  t.same(withoutClocks.slice(1), [' => [s 5/8] COPY 5 /5', ' => [s 6/8] COPY 6 /6', ' => [s 7/8] RUN sleep 1', ' => => # still going'],
    'the frame fits in rows - 1 lines, the oldest finished vertices left out');
  running.done();
  progress.close();
  t.equal(last(frames(term.text())).length, 8, 'the final frame, never redrawn, shows every vertex');
});

t.test('--progress and BUILDKIT_PROGRESS choose the output of the CLI', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\n', 'bad.Dockerfile': 'FROM scratch\nCOPY missing /missing\n', 'hello.txt': 'hello\n' });
  const out = (name: string) => ['-o', `type=oci,dest=${path.join(p.dir, name)}`];

  const plain = p.build(['--progress=plain', ...out('plain')]);
  t.equal(plain.status, 0, 'the build with --progress=plain succeeds');
  t.match(plain.stderr, /^#1 \[internal\] load build definition from Dockerfile\n#1 DONE \d+\.\ds\n\n#2 \[stage-0 1\/2\] FROM scratch\n#2 DONE \d+\.\ds\n\n#3 \[stage-0 2\/2\] COPY hello.txt \/hello.txt\n#3 DONE \d+\.\ds\n\n#4 exporting to image\n#4 DONE \d+\.\ds\n\nbuilt sha256:[0-9a-f]{64} in \d+\.\ds\n$/, 'BuildKit\'s plain format');
  t.ok(fs.existsSync(path.join(p.dir, 'plain', 'index.json')), 'the image was exported');

  const tty = p.build(['--progress=tty', ...out('tty')]);
  t.equal(tty.status, 0, 'the build with --progress=tty succeeds');
  t.match(tty.stderr, /\x1b\[\d+A/, 'cursor up: frames are redrawn in place');
  t.match(tty.stderr, /\x1b\[2K/, 'lines are cleared before they are redrawn');
  const final = last(frames(tty.stderr));
  t.match(final[0], /^\[\+\] Building \d+\.\ds \(4\/4\) FINISHED$/, 'the final frame says FINISHED');
  t.match(final[3], /^ => CACHED \[stage-0 2\/2\] COPY hello.txt \/hello.txt +\d+\.\ds$/, 'the rebuild\'s COPY is cached');
  t.match(tty.stderr, /\x1b\[J(built sha256:[0-9a-f]{64} in \d+\.\ds\n)$/, 'the summary follows the final frame');
  t.ok(final.every((l) => l.length <= 80), 'without a terminal to ask, 80 columns');

  const failed = p.build(['--progress=tty', '-f', 'bad.Dockerfile']);
  t.equal(failed.status, 1, 'a failed build exits 1');
  t.match(last(frames(failed.stderr))[3], /^ => ERROR \[stage-0 2\/2\] COPY missing \/missing +\d+\.\ds$/, 'the failed vertex is marked');
  t.match(failed.stderr, /\x1b\[Jtsbuild: error: bad.Dockerfile:2: COPY: .*\n$/, 'the error follows the final frame');

  const auto = p.build([...out('auto')], { BUILDKIT_PROGRESS: '' });
  t.match(auto.stderr, /^#1 \[internal\] load build definition/, 'auto on a pipe: plain');
  t.notMatch(auto.stderr, /\x1b\[/, 'and no escape sequences');
  t.match(p.build([], { BUILDKIT_PROGRESS: 'tty' }).stderr, /\x1b\[\d+A/, 'BUILDKIT_PROGRESS=tty without --progress: the TTY view');
  t.match(p.build(['--progress=plain'], { BUILDKIT_PROGRESS: 'tty' }).stderr, /^#1 /, '--progress wins over BUILDKIT_PROGRESS');

  for (const [args, env, source] of [[['--progress=bogus'], {}, '--progress'], [[], { BUILDKIT_PROGRESS: 'bogus' }, 'BUILDKIT_PROGRESS']] as const) {
    const bogus = p.build([...args], env);
    t.equal(bogus.status, 1, `${source}=bogus fails`);
    t.equal(bogus.stderr, `tsbuild: error: invalid ${source} value "bogus" (auto, plain, tty, rawjson)\n`, 'with one line saying why');
  }
});

t.test('a step reading another stage starts once that stage is built', async (t) => {
  const p = project(t, {
    Dockerfile: [
      'FROM scratch AS slow', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 1; /bin/busybox touch /done"]',
      'FROM scratch', 'COPY --from=slow /done /done', 'CMD ["none"]', '',
    ].join('\n'),
  });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  const r = p.build(['--progress=plain']);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const runDone = lines.findIndex((l, i) => /^#(\d+) DONE/.test(l) && lines.slice(0, i).some((m) => m === `#${/^#(\d+)/.exec(l)![1]} [slow 3/3] RUN ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 1; /bin/busybox touch /done"]`));
  const copyStart = lines.findIndex((l) => /^#\d+ \[stage-1 2\/3\] COPY --from=slow \/done \/done$/.test(l));
  t.ok(runDone > 0 && copyStart > runDone, `the COPY --from vertex (line ${copyStart}) follows the end of the stage's RUN (line ${runDone})`);
});
