// What every operation gets from whoever drives the runtime (the CLI's global flags, or a
// library caller's options).
import type { StateStore } from '../state/store.js';

/** Where the runtime reports what went wrong but did not fail the operation (a hook, a cleanup). */
export interface RuntimeLog {
  warn(message: string): void;
  /** The lifecycle's steps, for --debug (runc's level=debug lines); dropped when absent. */
  debug?(message: string): void;
}

export interface RuntimeContext {
  store: StateStore;
  log: RuntimeLog;
  systemdCgroup: boolean;
  /** The criu binary checkpoint and restore run (runc's --criu); "criu" on PATH when absent. */
  criuPath?: string;
}
