// Build progress as BuildKit prints it in plain mode: numbered vertices, CACHED marks, durations.
export class Progress {
  private next = 1;

  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  /** Starts a vertex; the returned function ends it as DONE (with its duration) or CACHED. */
  step(title: string): { id: number; done(cached?: boolean): void; log(line: string): void } {
    const id = this.next++;
    const started = process.hrtime.bigint();
    this.out.write(`#${id} ${title}\n`);
    return {
      id,
      done: (cached = false) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.out.write(cached ? `#${id} CACHED\n\n` : `#${id} DONE ${seconds.toFixed(1)}s\n\n`);
      },
      log: (line: string) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.out.write(`#${id} ${seconds.toFixed(3)} ${line}\n`);
      },
    };
  }
}
