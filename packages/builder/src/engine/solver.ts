// The solver, as BuildKit's: a graph of vertices solved concurrently where they do not depend on
// each other, the ops inside them looked up in a cache by key and their results recorded the
// moment each completes. The first failure cancels everything still running (through one
// AbortSignal), and the solve settles only once every vertex has: a failed build leaves nothing
// running and nothing mounted behind it, reports the failure that caused it rather than what the
// cancellation made of its siblings, and keeps what it completed for the next build.
// It knows nothing of Dockerfiles, containers or layers: the build (build.ts) gives it its
// vertices, and the cache and the executor sit behind the ops' interfaces.

/** Where op results are kept between builds. */
export interface ResultCache<R> {
  /** The result kept under `key`, or undefined (a miss); `log` is told why an entry was not usable. */
  lookup(key: string, log: (line: string) => void): Promise<R | undefined>;
  /** Keeps `result` under `key`, durably: a build that fails or is interrupted next still has it. */
  record(key: string, result: R): Promise<void>;
}

/** One unit of cached work: what BuildKit calls an op, with the cache key its inputs gave it. */
export interface Op<R> {
  key: string;
  /** Makes the result; `signal` is aborted when the solve is cancelled, and the op must then stop. */
  exec(signal: AbortSignal): Promise<R>;
  /** Told what the cache has to say about the op's entry. */
  log(line: string): void;
}

export interface Vertex<T> {
  readonly id: string;
  /** Vertices solved before this one starts; their results are handed to `solve` in this order. */
  readonly deps: readonly string[];
  solve(inputs: unknown[], signal: AbortSignal): Promise<T>;
}

export interface SolverOptions<R> {
  cache: ResultCache<R>;
  /** --no-cache: every op runs, and its result is still recorded (as BuildKit does). */
  noCache: boolean;
  /** Aborted from outside (Ctrl-C): the solve is cancelled as by a failure. */
  signal?: AbortSignal;
}

/** The error of a vertex that never started, or of an op refused, because the solve was cancelled. */
export class Cancelled extends Error {}

export class Solver<R> {
  private readonly controller = new AbortController();
  /** The graph, in the order given, and where each vertex is in it. */
  private graph: readonly Vertex<unknown>[] = [];
  private readonly positions = new Map<string, number>();
  /** The vertices started so far. */
  private readonly results = new Map<string, Promise<unknown>>();
  /** The first failure, the one the solve reports; set once. */
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: SolverOptions<R>) {
    const outer = options.signal;
    if (outer?.aborted) this.controller.abort(new Cancelled('the build was interrupted'));
    outer?.addEventListener('abort', () => this.controller.abort(new Cancelled('the build was interrupted')), { once: true });
  }

  /** Aborted on the first failure (or from outside): what every op and executor of the solve watches. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Solves `target`: it, the vertices of `eager` and what they depend on start at once (each once
   * its deps are solved), the rest of the graph only when input() asks for it (a reference the
   * graph could not see before the solve). `vertices` lists deps first, so that no chain of them,
   * however long, is started by recursion. On a failure the solve rejects with the first one, but
   * only after every vertex it started has settled.
   */
  async solve<T>(vertices: readonly Vertex<unknown>[], target: string, eager: readonly string[] = []): Promise<T> {
    if (this.positions.size > 0) throw new Error('solver: a solver solves one graph');
    // The graph is checked whole before anything starts: a mistake in it leaves nothing running.
    for (const [position, vertex] of vertices.entries()) {
      if (this.positions.has(vertex.id)) throw new Error(`solver: vertex ${vertex.id} given twice`);
      const missing = vertex.deps.find((id) => !this.positions.has(id));
      if (missing !== undefined) throw new Error(`solver: vertex ${vertex.id} needs ${missing}, which is not given before it`);
      this.positions.set(vertex.id, position);
    }
    this.graph = vertices;
    for (const id of [target, ...eager]) if (!this.positions.has(id)) throw new Error(`solver: no vertex ${id}`);
    this.start([target, ...eager]);
    // Settled means every started vertex, including those started while waiting.
    for (let seen = 0; seen < this.results.size;) {
      seen = this.results.size;
      await Promise.allSettled(this.results.values());
    }
    if (this.failure) throw this.failure.error;
    return this.results.get(target) as Promise<T>;
  }

  /**
   * The result of another vertex of the graph, for one that reads it part-way through (a COPY
   * --from in the middle of a stage) rather than before it starts; started now if it was not.
   */
  input<T>(id: string): Promise<T> {
    if (!this.positions.has(id)) return Promise.reject(new Error(`solver: no vertex ${id}`));
    if (!this.results.has(id)) {
      if (this.signal.aborted) return Promise.reject(this.signal.reason);
      this.start([id]);
    }
    return this.results.get(id) as Promise<T>;
  }

  /** Starts `ids` and their deps, the deps first (in the graph's order), each once. */
  private start(ids: readonly string[]): void {
    const closure = new Set(ids.filter((id) => !this.results.has(id)));
    for (const id of closure) {
      for (const dep of this.graph[this.positions.get(id)!]!.deps) if (!this.results.has(dep)) closure.add(dep);
    }
    const order = [...closure].map((id) => this.positions.get(id)!).sort((a, b) => a - b);
    for (const vertex of order.map((position) => this.graph[position]!)) {
      const result = Promise.all(vertex.deps.map((id) => this.results.get(id)!)).then((inputs) => {
        this.signal.throwIfAborted();
        return vertex.solve(inputs, this.signal);
      });
      result.catch((error: unknown) => this.fail(error));
      this.results.set(vertex.id, result);
    }
  }

  /**
   * Runs `op`: its result from the cache when its key is there (unless --no-cache), else made and
   * recorded as soon as it is. `cached` says which, for the progress.
   */
  async op(op: Op<R>): Promise<{ result: R; cached: boolean }> {
    this.signal.throwIfAborted();
    if (!this.options.noCache) {
      const hit = await this.options.cache.lookup(op.key, (line) => op.log(line));
      if (hit !== undefined) return { result: hit, cached: true };
    }
    const result = await op.exec(this.signal);
    await this.options.cache.record(op.key, result);
    return { result, cached: false };
  }

  /** The first failure is the solve's; it cancels the rest. What a cancellation makes fail later is not reported. */
  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.controller.abort(new Cancelled(`cancelled: ${error instanceof Error ? error.message : String(error)}`));
  }
}
