// `tsrunc start`: releases an init waiting on its exec fifo and, once it has exec'd the program,
// runs the poststart hooks.
import fs from 'node:fs';
import { runHooks } from '../hooks/run.js';
import { isRunning } from '../state/proc.js';
import { requireStatus, stateDocument } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';
import { reopenCgroup } from './cgroup.js';
import { statusOf } from './status.js';
import { killProcesses } from './teardown.js';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads the init's byte from the fifo, then waits for the end of the fifo: the init keeps its end
 * open (close-on-exec) until it execs the program, so the end means the program runs (or the init
 * died), as runc's start reads the fifo to its end. Fails rather than hangs if the init died first.
 */
function releaseInit(fifo: string, record: ContainerRecord): void {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    let released = false;
    for (;;) {
      const n = readSome(fd);
      if (n > 0) released = true;
      // 0 is the end, but only once the init has opened its end and written: before, no writer too.
      else if (n === 0 && released) return;
      // A fast init may have written its byte, run and exited since the read: the byte left in
      // the pipe says it was released, and only its absence means the init died first.
      else if (!isRunning(record.pid, record.pidStartTime)) {
        if (released || readSome(fd) > 0) return;
        throw new Error('container init exited before it was started');
      }
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** What the non-blocking fifo has: bytes read, 0 at its end (or before a writer), -1 while the writer has written nothing more. */
function readSome(fd: number): number {
  try {
    return fs.readSync(fd, Buffer.alloc(16), 0, 16, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return -1;
  }
}

export function startContainer(ctx: RuntimeContext, id: string): void {
  const lock = ctx.store.lock(id);
  try {
    const record = ctx.store.load(id);
    requireStatus('start', statusOf(ctx, record), id);
    const fifo = ctx.store.fifoPath(id);
    ctx.log.debug?.(`start: releasing init ${record.pid} through the exec fifo`);
    releaseInit(fifo, record);
    ctx.log.debug?.(`start: init ${record.pid} exec'd the program; running the poststart hooks`);
    fs.unlinkSync(fifo);
    try {
      runHooks('poststart', record.config.hooks?.poststart, stateDocument(record, 'running'));
    } catch (err) {
      // runtime-spec 1.3 (and runc): a failed poststart hook is an error and stops the container.
      killProcesses(reopenCgroup(record), { pid: record.pid, startTime: record.pidStartTime });
      throw err;
    }
  } finally {
    lock.release();
  }
}
