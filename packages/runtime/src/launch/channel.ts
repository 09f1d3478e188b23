// The parent's end of the sync socket shared with the native stage and then the init (or exec)
// stage: newline-terminated messages, JSON for the TypeScript stages.
import type { Socket } from 'node:net';

const NEWLINE = 0x0a;

export class Channel {
  /** Whole lines received and not yet read. */
  private readonly lines: string[] = [];
  /** The received start of the next line. */
  private partial: Buffer[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.receive(chunk);
      this.deliver();
    });
    const close = () => {
      this.closed = true;
      this.deliver();
    };
    socket.on('end', close);
    socket.on('close', close);
    socket.on('error', close);
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
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
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

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(message: unknown): void {
    this.socket.write(JSON.stringify(message) + '\n');
  }

  close(): void {
    this.socket.destroy();
  }
}
