// The init/exec stage's end of the sync socket: blocking reads and writes, since the stage
// does nothing else while it waits for the parent.
import fs from 'node:fs';

export class SyncChannel {
  private pending = '';

  constructor(private fd: number | undefined) {}

  read<T>(): T {
    if (this.fd === undefined) throw new Error('sync channel is closed');
    const chunk = Buffer.alloc(4096);
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) < 0) {
      const n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
      if (n === 0) throw new Error('tsrunc closed the sync channel');
      this.pending += chunk.toString('utf8', 0, n);
    }
    const line = this.pending.slice(0, nl);
    this.pending = this.pending.slice(nl + 1);
    return JSON.parse(line) as T;
  }

  send(message: unknown): void {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, JSON.stringify(message) + '\n');
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
