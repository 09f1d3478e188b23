// Long Dockerfiles must cost time in proportion to their length: 20000 `LABEL a<N>=b` lines once
// took 83 s (every LABEL copied all the labels before it), and 100000 of them kept tsbuild deaf to
// SIGTERM for minutes. The checks compare sizes against each other (linear growth), not against a
// wall-clock budget; the speed itself is measured by bench/dockerfile.mjs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { parseDockerfile, stageDependencies } from '../src/dockerfile/index.js';
import { Build } from '../src/engine/build.js';
import { loadIgnore } from '../src/engine/ignore.js';
import { PlainProgress } from '../src/engine/progress-plain.js';
import { openStore } from '../src/engine/store-root.js';
import { TSBUILD } from './project.js';

const dockerfiles = {
  LABEL: (n: number) => `FROM scratch\n${Array.from({ length: n }, (_, i) => `LABEL a${i}=b`).join('\n')}\n`,
  ENV: (n: number) => `FROM scratch\n${Array.from({ length: n }, (_, i) => `ENV a${i}=$a${i > 0 ? i - 1 : 0}`).join('\n')}\n`,
};

/** Stages that each copy from the one before: what stage dependency analysis walks. */
const chain = (n: number) => Array.from({ length: n }, (_, i) => `FROM scratch AS s${i}\n${i === 0 ? 'LABEL first=1' : `COPY --from=s${i - 1} /a /a`}`).join('\n') + '\n';

/** Milliseconds to parse `text` and run its build (metadata steps only) into a fresh store. */
async function processMs(text: string, dir: string): Promise<number> {
  const store = await openStore(fs.mkdtempSync(path.join(dir, 'store-')));
  const started = performance.now();
  const dockerfile = parseDockerfile(text);
  const build = new Build({
    dockerfile, dockerfileName: 'Dockerfile', buildArgs: {}, noCache: false, store,
    progress: new PlainProgress(fs.createWriteStream('/dev/null')),
    context: { dir, ignore: loadIgnore(dir, path.join(dir, 'Dockerfile')), label: 'build context' },
  });
  await build.run();
  return performance.now() - started;
}

/** 4x the lines: linear work takes ~4x, the old quadratic code ~16x; 6x plus a margin for noise tells them apart. */
function linear(t: { ok(value: boolean, message: string): unknown }, what: string, smallMs: number, largeMs: number): void {
  t.ok(largeMs < 6 * smallMs + 500, `${what}: 4x the lines took ${(largeMs / smallMs).toFixed(1)}x the time (${smallMs.toFixed(0)} -> ${largeMs.toFixed(0)} ms)`);
}

t.test('parse and plan time grows linearly with the number of lines', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-scale-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [kind, make] of Object.entries(dockerfiles)) {
    await processMs(make(5000), dir); // warms the JIT, so the small run is not mostly compilation
    linear(t, `${kind} lines`, await processMs(make(5000), dir), await processMs(make(20000), dir));
  }
});

t.test('stage dependencies of a long chain of stages are found in linear time', async (t) => {
  const timed = (n: number) => {
    const df = parseDockerfile(chain(n));
    const started = performance.now();
    const deps = stageDependencies(df);
    const ms = performance.now() - started;
    t.same([...deps.get(n - 1)!], [n - 2], `stage ${n - 1} depends on stage ${n - 2}`);
    return ms;
  };
  timed(5000);
  linear(t, 'stageDependencies', timed(5000), timed(20000));
});

t.test('SIGTERM stops a build of 100000 metadata lines promptly, with nothing tagged', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-sigterm-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'ctx'));
  fs.writeFileSync(path.join(dir, 'ctx', 'Dockerfile'), dockerfiles.LABEL(100000));
  const root = path.join(dir, 'store');
  const child = spawn(TSBUILD, ['build', '--root', root, '--progress', 'plain', '-t', 'long:1', path.join(dir, 'ctx')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  // The signal handlers are in place before the first progress line; the build is under way then.
  await new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('#1 ')) resolve();
  }));
  const sent = performance.now();
  child.kill('SIGTERM');
  const { code, signal } = await exited;
  const ms = performance.now() - sent;
  t.equal(signal, null, 'tsbuild handled the signal itself');
  t.equal(code, 1, 'and exited with an error');
  t.match(stderr, /tsbuild: error: the build was interrupted/);
  t.ok(ms < 2000, `it stopped ${ms.toFixed(0)} ms after SIGTERM`);
  const index = JSON.parse(fs.readFileSync(path.join(root, 'layout', 'index.json'), 'utf8')) as { manifests: unknown[] };
  t.same(index.manifests, [], 'no image was tagged');
});
