// `tsrunc start`: releases an init waiting on its exec fifo, then runs the poststart hooks.
import fs from 'node:fs';
import { runHooks } from '../hooks/run.js';
import { isRunning } from '../state/proc.js';
import { requireStatus, stateDocument } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';
import { statusOf } from './status.js';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Reads the init's byte from the fifo; fails rather than hangs if the init has died. */
function releaseInit(fifo: string, record: ContainerRecord): void {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    while (!readByte(fd)) {
      // A fast init may have written its byte, run and exited since the read: the byte left in
      // the pipe says it was released, and only its absence means the init died first.
      if (!isRunning(record.pid, record.pidStartTime)) {
        if (readByte(fd)) return;
        throw new Error('container init exited before it was started');
      }
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** One byte from the non-blocking fifo: false while the init has not written it. */
function readByte(fd: number): boolean {
  try {
    return fs.readSync(fd, Buffer.alloc(1), 0, 1, null) === 1;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return false;
  }
}

export function startContainer(ctx: RuntimeContext, id: string): void {
  const lock = ctx.store.lock(id);
  try {
    const record = ctx.store.load(id);
    requireStatus('start', statusOf(ctx, record), id);
    const fifo = ctx.store.fifoPath(id);
    releaseInit(fifo, record);
    fs.unlinkSync(fifo);
    try {
      runHooks('poststart', record.config.hooks?.poststart, stateDocument(record, 'running'));
    } catch (err) {
      ctx.log.warn((err as Error).message);
    }
  } finally {
    lock.release();
  }
}
