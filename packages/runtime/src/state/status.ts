// A container's status is derived, never stored: from its init process and its exec fifo, so
// that it stays true whatever happened between two tsrunc calls.
import fs from 'node:fs';
import type { State } from '@tsrunc/spec-schemas';
import { InvalidStatusError } from './errors.js';
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

/** What can be done to a container, each allowed in some statuses only. */
export type Operation = 'start' | 'pause' | 'resume' | 'kill' | 'exec' | 'update' | 'events' | 'checkpoint' | 'delete';

interface Transition {
  /** The statuses the operation may act in. */
  from: readonly Status[];
  /** The status it leads to, when it changes one. */
  to?: Status;
  /** runc's words for a refusal. */
  refusal(status: Status, id: string): string;
}

/** The one table of which operation a status allows, and where it leads (delete --force and exec
 * --ignore-paused widen it, as runc does: see their callers). */
export const TRANSITIONS: Record<Operation, Transition> = {
  start: {
    from: ['created'],
    to: 'running',
    refusal: (status) => (status === 'stopped' ? 'cannot start a container that has stopped' : 'cannot start an already running container'),
  },
  pause: { from: ['created', 'running'], to: 'paused', refusal: (status) => `container not running or created: ${status}` },
  resume: { from: ['paused'], to: 'running', refusal: () => 'container not paused' },
  kill: { from: ['created', 'running', 'paused'], refusal: () => 'container not running' },
  exec: {
    from: ['created', 'running'],
    refusal: (status) => (status === 'paused' ? 'cannot exec in a paused container' : 'cannot exec in a stopped container'),
  },
  update: { from: ['created', 'running', 'paused'], refusal: () => 'cannot update a stopped container' },
  events: { from: ['created', 'running', 'paused'], refusal: (_status, id) => `container with id ${id} is not running` },
  // Without --leave-running criu kills what it dumped: the container is then stopped.
  checkpoint: { from: ['running', 'paused'], to: 'stopped', refusal: (status) => `Container cannot be checkpointed in ${status} state` },
  delete: { from: ['creating', 'created', 'stopped'], refusal: (status, id) => `cannot delete container ${id} that is not stopped: ${status}` },
};

export function requireStatus(operation: Operation, status: Status, id: string): void {
  const transition = TRANSITIONS[operation];
  if (!transition.from.includes(status)) throw new InvalidStatusError(operation, status, transition.refusal(status, id));
}
