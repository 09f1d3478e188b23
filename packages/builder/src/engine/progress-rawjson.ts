// Build progress as BuildKit's raw JSON status stream (`--progress=rawjson`): one SolveStatus
// object per line, each holding what changed: "vertexes" (a vertex started, completed, cached or
// failed, restated whole each time, as BuildKit sends it), "logs" (a vertex's output, its bytes in
// base64, as Go encodes []byte). A vertex is named by a digest, as BuildKit's are by their op's;
// ours is of the vertex's number and title, unique within the build.
import { createHash } from 'node:crypto';
import type { Progress, ProgressStep } from './progress.js';

interface JsonVertex {
  digest: string;
  name: string;
  started: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}

/** Stream 1 is stdout: a RUN step's output reaches the progress as one stream. */
const STDOUT = 1;
/** The error BuildKit gives a vertex stopped by the cancellation of its context. */
const CANCELED = 'context canceled';

export class RawJsonProgress implements Progress {
  private next = 1;

  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  step(title: string): ProgressStep {
    const id = this.next++;
    const vertex: JsonVertex = {
      digest: `sha256:${createHash('sha256').update(`${id}\0${title}`).digest('hex')}`,
      name: title,
      started: new Date().toISOString(),
    };
    this.emit({ vertexes: [vertex] });
    const end = (how: { cached?: boolean; error?: string }) => this.emit({ vertexes: [{ ...vertex, completed: new Date().toISOString(), ...how }] });
    return {
      id,
      done: (cached = false) => end(cached ? { cached } : {}),
      error: (message) => end({ error: message }),
      canceled: () => end({ error: CANCELED }),
      log: (line) => this.emit({ logs: [{ vertex: vertex.digest, stream: STDOUT, data: Buffer.from(`${line}\n`).toString('base64'), timestamp: new Date().toISOString() }] }),
    };
  }

  /** Every line is complete as it is written: there is nothing to finish. */
  close(): void {}

  private emit(status: object): void {
    this.out.write(JSON.stringify(status) + '\n');
  }
}
