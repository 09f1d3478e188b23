// One frame of the TTY progress view, laid out as BuildKit lays it out: a header with the elapsed
// time and the finished/total vertex count, a line per vertex with its duration at the right edge,
// and under each vertex still running the last lines of its log. State in, lines out: drawing
// them on the terminal is progress-tty.ts's job.

/** A vertex as the view knows it; times are performance.now() milliseconds. */
export interface Vertex {
  title: string;
  started: number;
  ended?: number;
  cached: boolean;
  /** How a vertex that did not complete ended: its own failure, or stopped by another's. */
  outcome?: 'error' | 'canceled';
  /** The last lines of its log, each already made fit for one terminal line by oneLine(). */
  logTail: string[];
}

export interface FrameOptions {
  now: number;
  /** When the build started, for the header's clock. */
  started: number;
  /** Terminal columns: no line is longer. */
  width: number;
  /** Lines the frame may take; when the vertices need more, finished ones give way first. */
  height: number;
  /** The build has ended: a vertex still open is the one that failed, and its log stays. */
  final: boolean;
}

const BLUE = '\x1b[34m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/** A vertex's lines, and whether they may give way to running vertices on a short terminal. */
interface Block {
  lines: string[];
  finished: boolean;
}

export function renderFrame(vertices: readonly Vertex[], o: FrameOptions): string[] {
  const finished = vertices.filter((v) => v.ended !== undefined && v.outcome === undefined).length;
  const complete = o.final && finished === vertices.length ? ' FINISHED' : '';
  const header = fit(`[+] Building ${seconds(o.now - o.started)} (${finished}/${vertices.length})${complete}`, o.width);
  const blocks = vertices.map((v) => vertexBlock(v, o));
  return [header, ...within(blocks, o.height - 1)];
}

function vertexBlock(v: Vertex, o: FrameOptions): Block {
  const open = v.ended === undefined;
  // A vertex still open when the build has ended is one that failed without saying so.
  const failed = v.outcome === 'error' || (open && o.final);
  const mark = v.cached ? 'CACHED ' : v.outcome === 'canceled' ? 'CANCELED ' : failed ? 'ERROR ' : '';
  const color = failed ? RED : v.outcome === 'canceled' ? YELLOW : !open ? BLUE : '';
  const line = paint(color, spread(` => ${mark}${v.title}`, seconds((v.ended ?? o.now) - v.started), o.width));
  // A finished vertex's log collapses; a failed one's stays above the error that follows the frame.
  const log = open || failed ? v.logTail.map((text) => paint(DIM, fit(` => => # ${text}`, o.width))) : [];
  return { lines: [line, ...log], finished: !open };
}

/** The blocks' lines in at most `height` lines: the oldest finished vertices dropped first, then the top. */
function within(blocks: Block[], height: number): string[] {
  let excess = blocks.reduce((n, b) => n + b.lines.length, 0) - height;
  const shown = blocks.filter((b) => {
    if (excess <= 0 || !b.finished) return true;
    excess -= b.lines.length;
    return false;
  });
  const lines = shown.flatMap((b) => b.lines);
  return lines.slice(Math.max(0, lines.length - height));
}

/** `left` and `right` on one line of `width` columns, `right` at the edge and `left` cut to make room. */
function spread(left: string, right: string, width: number): string {
  const room = Math.max(0, width - right.length - 1);
  return fit(`${fit(left, room).padEnd(room)} ${right}`, width);
}

// Code units stand for columns: titles and logs are mostly ASCII, and a wide character at worst
// makes a line wrap.
function fit(text: string, width: number): string {
  return text.slice(0, width);
}

function paint(color: string, text: string): string {
  return color ? color + text + RESET : text;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * What a terminal would show of a line of output, as one line that cannot disturb the frame: of a
 * progress bar redrawn with carriage returns only its last state, without colours or other escape
 * sequences, and with any other control character (a tab, a newline in a title) as a space.
 */
export function oneLine(text: string): string {
  const redraws = text.replace(/\r+$/, '').split(/\r(?!\n)/);
  return (redraws[redraws.length - 1] ?? '').replace(ESCAPE_SEQUENCE, '').replace(CONTROL, ' ');
}
