// The solver with ops of the test's own (timers, failures, observers of their AbortSignal) and a
// cache in memory: ordering, concurrency, cancellation, the error reported, results recorded.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Cancelled, Solver, type ResultCache, type Vertex } from '../src/engine/solver.js';

/** A cache in a Map, which says what was recorded and when. */
class MemoryCache implements ResultCache<string> {
  readonly entries = new Map<string, string>();
  readonly recorded: string[] = [];
  async lookup(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }
  async record(key: string, result: string): Promise<void> {
    this.entries.set(key, result);
    this.recorded.push(key);
  }
}

/** What the vertices did, in order: "start a", "end a", "abort a"... */
type Journal = string[];

/** A vertex that runs one op (keyed by its id) taking `ms`, or failing after it with `fail`. */
function timed(solver: Solver<string>, journal: Journal, id: string, ms: number, deps: string[] = [], fail?: string): Vertex<string> {
  return {
    id,
    deps,
    async solve(inputs) {
      const { result } = await solver.op({
        key: `key-${id}`,
        log: () => undefined,
        exec: async (signal) => {
          journal.push(`start ${id}`);
          try {
            await sleep(ms, undefined, { signal });
          } catch (err) {
            journal.push(`abort ${id}`);
            // Like a RUN whose container is killed: it takes a moment to go, and then says so.
            await sleep(50);
            journal.push(`settled ${id}`);
            throw new Error(`${id} was interrupted`, { cause: err });
          }
          if (fail !== undefined) {
            journal.push(`fail ${id}`);
            throw new Error(fail);
          }
          journal.push(`end ${id}`);
          return [id, ...inputs].join('+');
        },
      });
      return result;
    },
  };
}

/** A vertex with no deps that notes `note`, then reads vertex `input` part-way through its solve. */
function readerOf(solver: Solver<string>, journal: Journal, input: string, note: string): Vertex<string> {
  return {
    id: 'reader',
    deps: [],
    async solve() {
      journal.push(note);
      return `read ${await solver.input<string>(input)}`;
    },
  };
}

t.test('a vertex starts once its deps are solved and gets their results in order', async (t) => {
  const cache = new MemoryCache();
  const solver = new Solver({ cache, noCache: false });
  const journal: Journal = [];
  const result = await solver.solve<string>([
    timed(solver, journal, 'a', 30),
    timed(solver, journal, 'b', 10),
    timed(solver, journal, 'c', 5, ['a', 'b']),
  ], 'c');
  t.equal(result, 'c+a+b', 'the inputs come in the order of deps');
  t.ok(journal.indexOf('start c') > journal.indexOf('end a') && journal.indexOf('start c') > journal.indexOf('end b'), journal.join(', '));
});

t.test('independent vertices run at the same time', async (t) => {
  const solver = new Solver({ cache: new MemoryCache(), noCache: false });
  const journal: Journal = [];
  const started = performance.now();
  await solver.solve([timed(solver, journal, 'a', 200), timed(solver, journal, 'b', 200), timed(solver, journal, 'c', 0, ['a', 'b'])], 'c');
  const ms = performance.now() - started;
  t.same(journal.slice(0, 2).sort(), ['start a', 'start b'], 'both start before either ends');
  t.ok(ms < 380, `two 200 ms vertices side by side take about 200 ms (${ms.toFixed(0)} ms)`);
});

t.test('the first failure cancels running siblings, waits for them, and is the error reported', async (t) => {
  const cache = new MemoryCache();
  const solver = new Solver({ cache, noCache: false });
  const journal: Journal = [];
  const started = performance.now();
  const solving = solver.solve([
    timed(solver, journal, 'done', 10),
    timed(solver, journal, 'slow', 10_000),
    timed(solver, journal, 'bad', 100, [], 'bad exited 3'),
    timed(solver, journal, 'later', 300, [], 'later failed too'),
    timed(solver, journal, 'last', 10, ['done', 'slow', 'bad']),
  ], 'last', ['later']);
  await t.rejects(solving, { message: 'bad exited 3' }, 'the first real error, not a sibling\'s cancellation');
  t.ok(performance.now() - started < 2000, 'the slow sibling did not run its course');
  t.ok(solver.signal.aborted, 'the solve\'s signal is aborted');
  t.ok(solver.signal.reason instanceof Cancelled);
  t.ok(journal.includes('abort slow') && journal.includes('abort later'), 'the running siblings saw the abort');
  t.ok(journal.includes('settled slow') && journal.includes('settled later'), 'the solve rejected only after the siblings settled');
  t.notOk(journal.includes('start last'), 'a vertex whose dep failed never starts');
  t.same(cache.recorded, ['key-done'], 'the op that completed before the failure was recorded, no other');
});

t.test('a dependency\'s failure is its own error, reported once, even read part-way through', async (t) => {
  const solver = new Solver({ cache: new MemoryCache(), noCache: false });
  const journal: Journal = [];
  const reader = readerOf(solver, journal, 'source', 'reader waits');
  await t.rejects(solver.solve([reader, timed(solver, journal, 'source', 20, [], 'source broke')], 'reader'), { message: 'source broke' });
  t.same(journal, ['reader waits', 'start source', 'fail source']);
});

t.test('a vertex neither wanted nor a dep starts only when input() asks for it, with its deps', async (t) => {
  const solver = new Solver({ cache: new MemoryCache(), noCache: false });
  const journal: Journal = [];
  const reader = readerOf(solver, journal, 'late', 'reader asks');
  const vertices = [timed(solver, journal, 'early', 5), timed(solver, journal, 'late', 5, ['early']), timed(solver, journal, 'unread', 5), reader];
  t.equal(await solver.solve(vertices, 'reader'), 'read late+early');
  t.same(journal, ['reader asks', 'start early', 'end early', 'start late', 'end late'], 'nobody asked for "unread": it never ran');
});

t.test('a cached op is not run, an uncached one is recorded as it completes, --no-cache runs it again', async (t) => {
  const cache = new MemoryCache();
  cache.entries.set('key-a', 'from the cache');
  const journal: Journal = [];
  const first = new Solver({ cache, noCache: false });
  const b = timed(first, journal, 'b', 5, ['a']);
  t.equal(await first.solve([timed(first, journal, 'a', 5), b], 'b'), 'b+from the cache');
  t.same(journal, ['start b', 'end b'], 'the cached op never ran');
  t.same(cache.recorded, ['key-b']);

  const again = new Solver({ cache, noCache: true });
  journal.length = 0;
  t.equal(await again.solve([timed(again, journal, 'a', 5)], 'a'), 'a', 'with --no-cache the op runs');
  t.same(journal, ['start a', 'end a']);
  t.same(cache.recorded, ['key-b', 'key-a'], 'and its result replaces the entry');
});

t.test('an abort from outside cancels the solve and nothing more starts', async (t) => {
  const outer = new AbortController();
  const cache = new MemoryCache();
  const solver = new Solver({ cache, noCache: false, signal: outer.signal });
  const journal: Journal = [];
  setTimeout(() => outer.abort(), 50);
  await t.rejects(solver.solve([timed(solver, journal, 'a', 10_000), timed(solver, journal, 'b', 5, ['a'])], 'b'), { message: 'a was interrupted' });
  t.same(journal, ['start a', 'abort a', 'settled a']);
  t.same(cache.recorded, []);
  const refused: unknown = await solver.op({ key: 'k', log: () => undefined, exec: async () => 'x' }).catch((err: unknown) => err);
  t.ok(refused instanceof Cancelled, 'an op asked after the abort is refused');
  t.equal((refused as Error).message, 'the build was interrupted');
});

t.test('a graph that lists a vertex before its deps, or twice, is refused before anything runs', async (t) => {
  const journal: Journal = [];
  const solver = new Solver({ cache: new MemoryCache(), noCache: false });
  await t.rejects(solver.solve([timed(solver, journal, 'a', 5), timed(solver, journal, 'b', 5, ['c']), timed(solver, journal, 'c', 5)], 'b'),
    { message: 'solver: vertex b needs c, which is not given before it' });
  const twice = new Solver({ cache: new MemoryCache(), noCache: false });
  await t.rejects(twice.solve([timed(twice, journal, 'a', 5), timed(twice, journal, 'a', 5)], 'a'), { message: 'solver: vertex a given twice' });
  t.same(journal, [], 'nothing started');
});
