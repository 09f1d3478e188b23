// The state directory of each container under --root: what later tsrunc calls need to find,
// signal and delete a container that was created by an earlier one.
//
// Crash safety: a tsrunc call may be SIGKILLed at any instruction, so the store never lets a
// container's directory exist without a record in it. `create` claims the ID by renaming a
// staging directory that already holds a "creating" record into place, and updates that record
// before each thing it makes exists (cgroup, init); whatever a killed create left, the record
// names it, and `delete` removes it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import type { CgroupRecord } from '../cgroups/index.js';
import { check, libc } from '../sys/libc.js';
import { writeFileAtomic } from '../sys/atomic-file.js';
import { fsError, makeDirs } from '../sys/make-dirs.js';
import { isValidId, validateId } from './ids.js';
import { DirLock } from './lock.js';
import { isRunning, selfId, type ProcessId } from './proc.js';
import { ContainerExistsError, ContainerNotFoundError } from './errors.js';

/** What tsrunc keeps of a container between calls. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** The init's pid; 0 while a create has not started it. */
  pid: number;
  /** /proc/PID/stat start time of the init, telling it from a later process with the same pid. */
  pidStartTime: string;
  created: string;
  owner: string;
  config: Spec;
  /** The cgroup manager's own description, to reopen it. */
  cgroup?: CgroupRecord;
  /** Namespace paths of the init as /proc/PID/ns/TYPE, or joined paths from config. */
  namespaces: Record<string, string>;
  /**
   * Set for a container without a mount namespace of its own: the ID of the mount the rootfs was
   * on before create, on which the container's mounts are stacked in the host's mount namespace
   * (rootfs/host-mounts.ts); delete unmounts them.
   */
  hostMountBase?: number;
  /**
   * Set while `create` runs: the tsrunc process creating the container. Still set once that
   * process is gone, it marks a create that was killed, whose leftovers only delete acts on.
   */
  creating?: ProcessId;
}

/**
 * The record of a container about to be made (by create or restore): no process yet, and
 * `creating` naming this tsrunc, so that what each step makes is found if it is killed.
 */
export function newContainerRecord(id: string, bundle: { dir: string; rootfs: string }, config: Spec, cgroup: CgroupRecord): ContainerRecord {
  return {
    id,
    bundle: bundle.dir,
    rootfs: bundle.rootfs,
    pid: 0,
    pidStartTime: '',
    created: new Date().toISOString(),
    owner: os.userInfo().username,
    config,
    cgroup,
    namespaces: {},
    creating: selfId(),
  };
}

/** The one error for an ID with no container, so that callers can tell it from the others. */

const STATE_FILE = 'state.json';
const EXEC_FIFO = 'exec.fifo';
/**
 * Separates an ID from its creator in a staging directory's name ("ID~PID-STARTTIME"). It is not
 * a character of IDs, so no staging directory is ever taken for a container.
 */
const STAGING_MARK = '~';

const renameat2 = libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');
const AT_FDCWD = -100;
const RENAME_NOREPLACE = 1;

function writeRecord(dir: string, record: ContainerRecord): void {
  // Replaced whole, so that a reader never sees half a record, nor does delete after a killed call.
  const file = path.join(dir, STATE_FILE);
  try {
    writeFileAtomic(file, JSON.stringify(record), { mode: 0o600 });
  } catch (err) {
    throw fsError('write', file, err);
  }
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), EXEC_FIFO);
  }

  /**
   * Claims an ID for `record` (which carries `creating`): the state dir appears at once with the
   * record in it, or not at all, and only one of two creates of an ID can win. Returns the lock,
   * held until the create ends.
   */
  claim(record: ContainerRecord): DirLock {
    const target = this.dir(record.id);
    makeDirs(this.root, 0o711);
    this.removeLeftovers(record.id);
    const creator = selfId();
    const staging = path.join(this.root, `${record.id}${STAGING_MARK}${creator.pid}-${creator.startTime}`);
    try {
      fs.mkdirSync(staging, { mode: 0o711 });
    } catch (err) {
      throw fsError('mkdir', target, err);
    }
    let lock: DirLock | undefined;
    try {
      lock = DirLock.acquire(staging);
      writeRecord(staging, record);
      check(renameat2(AT_FDCWD, staging, AT_FDCWD, target, RENAME_NOREPLACE) as number, `rename ${staging} to ${target}`);
      return lock;
    } catch (err) {
      lock?.release();
      fs.rmSync(staging, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ContainerExistsError(record.id, { cause: err });
      throw err;
    }
  }

  /**
   * Removes staging directories of `id` whose creator died before it could rename them into place
   * (they hold nothing but a record: a create makes nothing else before the rename).
   */
  removeLeftovers(id: string): void {
    const prefix = `${id}${STAGING_MARK}`;
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const [pid, startTime] = name.slice(prefix.length).split('-');
      if (!isRunning(Number(pid), startTime ?? '')) fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    }
  }

  /** Locks an existing container for the length of one command. */
  lock(id: string): DirLock {
    try {
      return DirLock.acquire(this.dir(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFoundError(id, { cause: err });
      throw err;
    }
  }

  /** The record of a container that was created; one still (or forever) being created is refused. */
  load(id: string): ContainerRecord {
    const record = this.loadAny(id);
    if (record.creating !== undefined) {
      throw new Error(isRunning(record.creating.pid, record.creating.startTime)
        ? `container ${id} is still being created`
        : `container ${id} was not created: its create was interrupted (delete --force removes it)`);
    }
    return record;
  }

  /** The record whatever its stage, for the commands that must see every container: state, list, delete. */
  loadAny(id: string): ContainerRecord {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFoundError(id, { cause: err });
      throw err;
    }
  }

  save(record: ContainerRecord): void {
    writeRecord(this.dir(record.id), record);
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** IDs of every container that has a state dir, being created or not. */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    return names.filter((name) => isValidId(name) && fs.existsSync(path.join(this.root, name, STATE_FILE))).sort();
  }
}
