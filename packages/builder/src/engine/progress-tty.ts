// Build progress as BuildKit shows it on a terminal: one frame (progress-frame.ts) redrawn in place
// as vertices start and end, and on a timer so that running vertices' clocks and logs move. Vertices
// of stages built in parallel run at the same time and so show together.
import { oneLine, renderFrame, type Vertex } from './progress-frame.js';
import type { Progress, ProgressStep } from './progress.js';

/** Where frames go: process.stderr when it is a terminal, which tells its size. */
export type Terminal = NodeJS.WritableStream & { columns?: number; rows?: number };

/** Often enough for the clocks to look live, seldom enough to cost nothing beside the build. */
const REDRAW_INTERVAL_MS = 120;
/** Lines of a running vertex's log on screen, as many as BuildKit shows. */
const LOG_TAIL_LINES = 6;
const DEFAULT_COLUMNS = 80;

const cursorUp = (lines: number) => `\x1b[${lines}A`;
const CLEAR_LINE = '\x1b[2K';
const CLEAR_TO_END = '\x1b[J';

export class TtyProgress implements Progress {
  private readonly vertices: Vertex[] = [];
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  /** Lines of the frame now on screen, which the next frame overwrites. */
  private shownLines = 0;
  private closed = false;

  constructor(private readonly out: Terminal = process.stderr) {
    // Unref'd: a view must never keep the process alive.
    this.timer = setInterval(() => this.draw(false), REDRAW_INTERVAL_MS).unref();
  }

  step(title: string): ProgressStep {
    const vertex: Vertex = { title: oneLine(title), started: performance.now(), cached: false, logTail: [] };
    this.vertices.push(vertex);
    this.draw(false);
    return {
      id: this.vertices.length,
      done: (cached = false) => {
        vertex.ended = performance.now();
        vertex.cached = cached;
        this.draw(false);
      },
      error: () => this.end(vertex, 'error'),
      canceled: () => this.end(vertex, 'canceled'),
      // Shown by the next tick rather than at once: a step printing thousands of lines a second
      // would otherwise have the whole frame redrawn for each.
      log: (line: string) => {
        vertex.logTail.push(oneLine(line));
        if (vertex.logTail.length > LOG_TAIL_LINES) vertex.logTail.shift();
      },
    };
  }

  /** The error itself follows the final frame, as the build's; the frame marks the vertex. */
  private end(vertex: Vertex, outcome: 'error' | 'canceled'): void {
    vertex.ended = performance.now();
    vertex.outcome = outcome;
    this.draw(false);
  }

  close(): void {
    clearInterval(this.timer);
    this.draw(true);
    this.closed = true;
  }

  private draw(final: boolean): void {
    if (this.closed) return;
    const rows = this.out.rows;
    const lines = renderFrame(this.vertices, {
      now: performance.now(),
      started: this.started,
      width: this.out.columns || DEFAULT_COLUMNS,
      // The cursor cannot go up past the top of the screen, so a frame to be redrawn must fit on
      // it (with the line the cursor is left on); the final frame is never redrawn.
      height: final || !rows ? Infinity : rows - 1,
      final,
    });
    // One write per frame, so that the terminal never shows half of one. No cursor move before the
    // first frame: ESC[0A would still move up a line.
    const up = this.shownLines > 0 ? cursorUp(this.shownLines) : '';
    this.out.write(up + lines.map((line) => CLEAR_LINE + line + '\n').join('') + CLEAR_TO_END);
    this.shownLines = lines.length;
  }
}
