// The build engine (engine/build.ts) with an executor of the test's own: no container runs, so
// this needs neither root nor the kernel's container features. The fake is real where the build
// reads what it makes: a RUN's result is a layer blob in the build's store (the cache keeps it and
// checks it is there), and a step's root filesystem is its layers extracted. What is checked is
// the build's side of the contract: the order of its calls, the cache keys it gives them, what it
// skips on a rebuild, and that a failing RUN fails the build with that RUN's message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { parseDockerfile } from '../src/dockerfile/index.js';
import { Build } from '../src/engine/build.js';
import type { ExecutorFactory, StepExecutor } from '../src/engine/executor.js';
import { IgnoreMatcher } from '../src/engine/ignore.js';
import type { ImageState, Layer } from '../src/engine/image-state.js';
import { PlainProgress } from '../src/engine/progress-plain.js';
import type { RunStep } from '../src/engine/run-step.js';
import { openStore, type BuilderStore } from '../src/engine/store-root.js';
import { extractLayers } from '../src/image/layer-reader.js';
import { storeDirectoryAsLayer } from '../src/image/layer-writer.js';
import type { SnapshotKind, SnapshotParent } from '../src/run/snapshot.js';

/** One call the build made, as the fake saw it. */
type Call =
  | { call: 'filesystem'; layers: number; key: string }
  | { call: 'run'; command: string; layers: number; parentKey: string; cwd: string; user: string; env: string[] }
  | { call: 'close' };

/**
 * RUN `/bin/sh -c WORD` writes /WORD holding WORD (its layer, stored for real) and prints WORD;
 * RUN `/bin/sh -c fail` fails as a step whose process exits 3.
 */
class FakeExecutor implements StepExecutor {
  readonly snapshotsUsed = new Set<SnapshotKind>();
  private readonly scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-fake-'));

  constructor(private readonly store: BuilderStore, private readonly calls: Call[]) {}

  async filesystem(state: ImageState, key: string): Promise<SnapshotParent> {
    this.calls.push({ call: 'filesystem', layers: state.layers.length, key });
    const root = fs.mkdtempSync(path.join(this.scratch, 'root-'));
    await extractLayers(this.store.layout.blobs, state.layers.map((l) => l.descriptor.digest), root);
    return { root, lowers: [root] };
  }

  async run(step: RunStep, _mounts: unknown[], state: ImageState, parentKey: string, onOutput: (chunk: Buffer) => void): Promise<Layer> {
    const command = step.args.at(-1)!;
    this.calls.push({ call: 'run', command, layers: state.layers.length, parentKey, cwd: step.cwd, user: step.user, env: step.env });
    if (command === 'fail') throw new Error(`process "${step.args.join(' ')}" did not complete successfully: exit code: 3`);
    this.snapshotsUsed.add('copy');
    onOutput(Buffer.from(`ran ${command}\n`));
    const tree = fs.mkdtempSync(path.join(this.scratch, 'tree-'));
    fs.writeFileSync(path.join(tree, command), command);
    return storeDirectoryAsLayer(this.store.layout.blobs, tree, 'tree', 0);
  }

  close(): void {
    this.calls.push({ call: 'close' });
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** A store and context of the test's own, and a build of `lines` in them through a fresh fake. */
async function setup(t: { teardown(fn: () => void): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-executor-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(path.join(dir, 'store'), () => undefined);
  fs.mkdirSync(path.join(dir, 'ctx'));
  return async (lines: string[]) => {
    const calls: Call[] = [];
    let output = '';
    const progress = new PlainProgress(new Writable({ write(chunk: Buffer, _encoding, done) { output += chunk.toString(); done(); } }));
    const executor: ExecutorFactory = (settings) => new FakeExecutor(settings.store, calls);
    const build = new Build({
      dockerfile: parseDockerfile(lines.join('\n') + '\n'), dockerfileName: 'Dockerfile', buildArgs: {}, noCache: false,
      store, progress, executor, sourceDateEpoch: 0,
      context: { dir: path.join(dir, 'ctx'), ignore: new IgnoreMatcher([]), label: 'build context' },
    });
    const result: { state?: ImageState; error?: Error } = await build.run().then((state) => ({ state }), (error: Error) => ({ error }));
    await store.cache.save();
    return { ...result, calls, output, snapshots: build.snapshots() };
  };
}

const uid = process.getuid!(), gid = process.getgid!();
// USER is the test's own: WORKDIR makes its directory owned by it, which needs no root.
const dockerfile = (last: string) => ['FROM scratch', 'RUN one', 'ENV A=1', `USER ${uid}:${gid}`, 'WORKDIR /app', `RUN ${last}`];
// What a scratch image's config starts with, as BuildKit sets it.
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const runs = (calls: Call[]) => calls.filter((c): c is Extract<Call, { call: 'run' }> => c.call === 'run');

t.test('the build calls its executor in step order, and a rebuild runs only what changed', async (t) => {
  const build = await setup(t);
  const first = await build(dockerfile('two'));
  t.equal(first.error?.message, undefined, 'the build succeeds');
  t.match(first.calls, [
    { call: 'run', command: 'one', layers: 0, cwd: '/', user: '', env: [PATH] },
    // WORKDIR looks at the image as RUN one left it.
    { call: 'filesystem', layers: 1 },
    { call: 'run', command: 'two', layers: 2, cwd: '/app', user: `${uid}:${gid}`, env: [PATH, 'A=1'] },
    { call: 'close' },
  ]);
  t.equal(first.calls.length, 4, 'nothing else: metadata steps need no executor');
  const [one, two] = runs(first.calls);
  t.not(one!.parentKey, two!.parentKey, 'each RUN is keyed on what came before it');
  t.match(first.output, /ran one\n[\s\S]*ran two\n/, "the steps' output reaches the progress");
  t.same(first.snapshots, ['copy'], "the summary's snapshot kinds are the executor's");
  const layers = (state: ImageState) => state.layers.map((l) => l.descriptor.digest);
  t.equal(layers(first.state!).length, 3, 'a layer for RUN one, WORKDIR and RUN two');

  const again = await build(dockerfile('two'));
  t.same(again.calls, [{ call: 'close' }], 'a rebuild is all cache hits: nothing runs, no filesystem is made');
  t.same(layers(again.state!), layers(first.state!), 'with the same layers');
  t.same(again.snapshots, [], 'and no snapshot used');

  const changed = await build(dockerfile('three'));
  t.same(runs(changed.calls).map((c) => c.command), ['three'], 'only the changed RUN runs');
  t.equal(runs(changed.calls)[0]!.parentKey, two!.parentKey, 'on the cached steps before it, with their key');
  t.same(layers(changed.state!).slice(0, 2), layers(first.state!).slice(0, 2), 'whose layers it keeps');
  t.not(layers(changed.state!)[2], layers(first.state!)[2], 'its own layer is new');
});

t.test("a failing RUN fails the build with its message and line; the steps before it stay cached", async (t) => {
  const build = await setup(t);
  const failed = await build(['FROM scratch', 'RUN one', 'RUN fail', 'RUN never']);
  t.equal(failed.error?.message,
    'Dockerfile:3: process "/bin/sh -c fail" did not complete successfully: exit code: 3');
  t.same(failed.calls.map((c) => c.call === 'run' ? c.command : c.call), ['one', 'fail', 'close'],
    'nothing runs after the failure, and the executor is closed');
  t.match(failed.output, /ERROR: process "\/bin\/sh -c fail" did not complete successfully/, 'the progress shows the error');

  const retried = await build(['FROM scratch', 'RUN one', 'RUN fail']);
  t.same(retried.calls.map((c) => c.call === 'run' ? c.command : c.call), ['fail', 'close'], 'RUN one is cached; the failed step is not');
});
