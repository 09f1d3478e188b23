// Build progress as BuildKit prints it in plain mode: numbered vertices, CACHED marks, durations.
import type { Progress, ProgressStep } from './progress.js';

export class PlainProgress implements Progress {
  private next = 1;

  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  step(title: string): ProgressStep {
    const id = this.next++;
    const started = process.hrtime.bigint();
    this.out.write(`#${id} ${title}\n`);
    return {
      id,
      done: (cached = false) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.out.write(cached ? `#${id} CACHED\n\n` : `#${id} DONE ${seconds.toFixed(1)}s\n\n`);
      },
      error: (message: string) => this.out.write(`#${id} ERROR: ${message}\n\n`),
      canceled: () => this.out.write(`#${id} CANCELED\n\n`),
      log: (line: string) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.out.write(`#${id} ${seconds.toFixed(3)} ${line}\n`);
      },
    };
  }

  /** Every line is final as it is written: there is nothing to finish. */
  close(): void {}
}
