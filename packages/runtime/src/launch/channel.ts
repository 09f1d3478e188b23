// The parent's end of the sync socket shared with the native stage and then the init (or exec)
// stage: newline-terminated messages, JSON for the TypeScript stages. Read through the fd itself
// (fs.read), written synchronously: no node:net stream, which costs start-up under Bun.
import fs from 'node:fs';
import { libc } from '../sys/libc.js';
import { writeAll } from '../sys/write-all.js';

const shutdown = libc.func('int shutdown(int fd, int how)');
const SHUT_RDWR = 2;
const NEWLINE = 0x0a;

export class Channel {
  /** Whole lines received and not yet read. */
  private readonly lines: string[] = [];
  /** The received start of the next line. */
  private partial: Buffer[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;
  private readonly buffer = Buffer.alloc(64 * 1024);

  /** Takes `fd` over: it is closed once the other side has closed or close() was called. */
  constructor(private readonly fd: number) {
    this.pump();
  }

  /**
   * One read at a time, until the end. The fd is closed here, after the last read has returned,
   * never while one is pending: closed under it, the fd number could be reused and read from.
   */
  private pump(): void {
    fs.read(this.fd, this.buffer, 0, this.buffer.length, null, (err, n) => {
      if (err || n === 0) {
        this.closed = true;
        fs.closeSync(this.fd);
        this.deliver();
        return;
      }
      this.receive(this.buffer.subarray(0, n));
      this.deliver();
      this.pump();
    });
  }

  /** Only the new chunk is searched for newlines, and a line is joined and decoded once, whole. */
  private receive(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      this.partial.push(chunk.subarray(start, nl));
      this.lines.push(Buffer.concat(this.partial).toString('utf8'));
      this.partial = [];
      start = nl + 1;
    }
    // A copy: the read buffer is reused by the next read.
    if (start < chunk.length) this.partial.push(Buffer.from(chunk.subarray(start)));
  }

  private deliver(): void {
    const resolve = this.waiting;
    if (!resolve) return;
    if (this.lines.length > 0) {
      this.waiting = undefined;
      resolve(this.lines.shift());
    } else if (this.closed) {
      this.waiting = undefined;
      resolve(undefined);
    }
  }

  /** The next line, or undefined once the other side has closed. */
  readLine(): Promise<string | undefined> {
    if (this.waiting) throw new Error('channel: concurrent reads');
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  async readMessage<T>(): Promise<T | undefined> {
    const line = await this.readLine();
    return line === undefined ? undefined : (JSON.parse(line) as T);
  }

  /** The socket, for what travels beside the lines as SCM_RIGHTS (container/mount-sources.ts). */
  get socket(): number {
    return this.fd;
  }

  write(data: string | Buffer): void {
    writeAll(this.fd, data);
  }

  send(message: unknown): void {
    this.write(JSON.stringify(message) + '\n');
  }

  /** Ends both directions: the pending read sees the end and closes the fd. */
  close(): void {
    if (!this.closed) shutdown(this.fd, SHUT_RDWR);
  }
}
