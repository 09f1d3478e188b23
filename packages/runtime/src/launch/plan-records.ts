// The plans tsrunc writes for the native stage (native/plan.h reads them): a u32 length, then
// records of [u32 tag][u32 length][value], little-endian as the host (x86_64) is. Integers are
// u32 or u64; strings are their UTF-8 bytes (tsrunc refuses NUL inside them); lists are one
// record per item. Shared by the rootfs plan (rootfs/native-plan.ts) and the process plan
// (process/native-plan.ts).
import type { Hook, State } from '@tsrunc/spec-schemas';

/** Where a pty's master goes (the process' fd of the console socket), and the pty's size. */
export interface ConsoleRecord {
  socketFd: number;
  size?: { height: number; width: number };
}

export class PlanWriter {
  private chunks: Buffer[] = [];

  record(tag: number, value: Buffer = Buffer.alloc(0)): void {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(tag, 0);
    header.writeUInt32LE(value.length, 4);
    this.chunks.push(header, value);
  }

  text(tag: number, value: string): void {
    this.record(tag, Buffer.from(value, 'utf8'));
  }

  u32s(tag: number, ...values: number[]): void {
    this.record(tag, u32s(...values));
  }

  /** A hook, as native/plan.c's parse_hook reads it, with the state it gets on stdin. */
  hook(tag: number, hook: Hook, state: State): void {
    const argv = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const env = hook.env ?? [];
    this.record(tag, Buffer.concat([u32s(hook.timeout ?? 0, argv.length, env.length), nulTerminated([hook.path, ...argv, ...env, JSON.stringify(state)])]));
  }

  /** A console: the fd of its socket, then its size as u16 rows and columns (0: unset), as
   * native/rootfs.c and process.c read it. */
  console(tag: number, console: ConsoleRecord): void {
    const value = Buffer.alloc(8);
    value.writeUInt32LE(console.socketFd, 0);
    value.writeUInt16LE(console.size?.height ?? 0, 4);
    value.writeUInt16LE(console.size?.width ?? 0, 6);
    this.record(tag, value);
  }

  finish(): Buffer {
    const body = Buffer.concat(this.chunks);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length, 0);
    return Buffer.concat([length, body]);
  }
}

export function u32s(...values: number[]): Buffer {
  const value = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => value.writeUInt32LE(v >>> 0, 4 * i));
  return value;
}

/** A NUL-separated list of strings, each terminated. */
export const nulTerminated = (items: string[]): Buffer => Buffer.from(items.map((item) => `${item}\0`).join(''), 'utf8');
