// What every command gets from the global flags.
import type { Logger } from '../cli/log.js';
import type { StateStore } from '../state/store.js';

export interface RuntimeContext {
  store: StateStore;
  log: Logger;
  systemdCgroup: boolean;
}
