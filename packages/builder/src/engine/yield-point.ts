// A long run of steps that need no I/O (thousands of LABEL or ENV lines) resolves through
// promise microtasks alone, which never let the event loop run: signal handlers, and so Ctrl-C or a
// TERM, would wait for the whole run. A YieldPoint gives the loop a turn now and then and stops the
// build once it was interrupted.
import { setImmediate } from 'node:timers/promises';

/** How long synchronous work may hold the event loop before it gets a turn. */
const SLICE_MS = 20;

export class YieldPoint {
  private sliceStart = performance.now();

  constructor(private readonly signal: AbortSignal | undefined) {}

  /** Throws once the build was interrupted; between two yields at most SLICE_MS pass. */
  async pass(): Promise<void> {
    if (performance.now() - this.sliceStart >= SLICE_MS) {
      await setImmediate();
      this.sliceStart = performance.now();
    }
    if (this.signal?.aborted) throw new Error('the build was interrupted');
  }
}
