// A container's status is derived, never stored: from its init process and its exec fifo, so
// that it stays true whatever happened between two tsrunc calls.
import fs from 'node:fs';
import type { State } from '@tsrunc/spec-schemas';
import { isRunning } from './proc.js';
import type { ContainerRecord, StateStore } from './store.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export function containerStatus(store: StateStore, record: ContainerRecord, isPaused: () => boolean): Status {
  // A create that was killed never finishes: what it left is stopped, for delete to remove.
  if (record.creating) return isRunning(record.creating.pid, record.creating.startTime) ? 'creating' : 'stopped';
  if (!isRunning(record.pid, record.pidStartTime)) return 'stopped';
  if (fs.existsSync(store.fifoPath(record.id))) return 'created';
  return isPaused() ? 'paused' : 'running';
}

/** `tsrunc state` output: the runtime-spec state plus runc's extra fields, in runc's order. */
export interface RuncState extends State {
  rootfs: string;
  created: string;
  owner: string;
}

export const OCI_VERSION = '1.2.0';

export function stateDocument(record: ContainerRecord, status: Status): RuncState {
  const doc: RuncState = {
    ociVersion: OCI_VERSION,
    id: record.id,
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  };
  if (record.config.annotations && Object.keys(record.config.annotations).length > 0) {
    doc.annotations = record.config.annotations;
  }
  return doc;
}
