// The parent's end of the sync socket shared with the native stage and then the init (or exec)
// stage: newline-terminated messages, JSON for the TypeScript stages.
import type { Socket } from 'node:net';

export class Channel {
  private buffer = '';
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
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

  private deliver(): void {
    if (!this.waiting) return;
    const nl = this.buffer.indexOf('\n');
    if (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(line);
    } else if (this.closed) {
      const resolve = this.waiting;
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

  write(text: string): void {
    this.socket.write(text);
  }

  send(message: unknown): void {
    this.socket.write(JSON.stringify(message) + '\n');
  }

  close(): void {
    this.socket.destroy();
  }
}
