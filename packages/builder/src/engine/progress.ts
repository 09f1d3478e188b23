// What the build engine reports its vertices to: BuildKit's plain log (progress-plain.ts), its
// live terminal view (progress-tty.ts) or its raw JSON status stream (progress-rawjson.ts), chosen
// by --progress.

/** One vertex of the build (a step, or the export), from its start. */
export interface ProgressStep {
  id: number;
  /** Ends the vertex as DONE (with its duration) or, with `cached`, as CACHED. */
  done(cached?: boolean): void;
  /** One line of the vertex's output (a RUN step's stdout and stderr), without its newline. */
  log(line: string): void;
  /** Ends the vertex as failed, with its error (BuildKit's "ERROR: ..."). */
  error(message: string): void;
  /** Ends the vertex as stopped by another's failure or an interrupt (BuildKit's CANCELED). */
  canceled(): void;
}

export interface Progress {
  /** Starts a vertex titled as BuildKit titles it (`[stage 2/4] RUN make`). */
  step(title: string): ProgressStep;
  /**
   * The build has ended, well or not: whatever is still drawn is drawn for the last time, so that
   * what comes next (the summary, the error) follows it. Vertices never done are the ones that failed.
   */
  close(): void;
}
