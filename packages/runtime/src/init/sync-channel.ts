// The init/exec stage's end of the sync socket: blocking reads and writes, since the stage
// does nothing else while it waits for the parent.
import fs from 'node:fs';

const NEWLINE = 0x0a;
/** The socket's buffer size: one read takes whatever the parent has written so far. */
const CHUNK_SIZE = 64 * 1024;

export class SyncChannel {
  /** Bytes read past the last line returned: the start of the next line, or several lines. */
  private unread: Buffer = Buffer.alloc(0);

  constructor(private fd: number | undefined) {}

  /**
   * The next line, parsed. Linear in its length: each byte is searched for the newline once and
   * the pieces are joined once, so a plan of many megabytes costs no more than reading it; the
   * bytes are decoded only when whole, so a character split across two reads stays intact.
   */
  read<T>(): T {
    if (this.fd === undefined) throw new Error('sync channel is closed');
    const pieces: Buffer[] = [];
    let chunk = this.unread;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl >= 0) {
        pieces.push(chunk.subarray(0, nl));
        this.unread = chunk.subarray(nl + 1);
        return JSON.parse(Buffer.concat(pieces).toString('utf8')) as T;
      }
      pieces.push(chunk);
      const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
      const n = fs.readSync(this.fd, buffer, 0, buffer.length, null);
      if (n === 0) throw new Error('tsrunc closed the sync channel');
      chunk = buffer.subarray(0, n);
    }
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
