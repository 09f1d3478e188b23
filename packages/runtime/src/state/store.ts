// The state directory of each container under --root: what later tsrunc calls need to find,
// signal and delete a container that was created by an earlier one.
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import type { CgroupRecord } from '../cgroups/index.js';
import { validateId } from './ids.js';
import { DirLock } from './lock.js';

/** What tsrunc keeps of a container between calls. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
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
}

const STATE_FILE = 'state.json';
export const EXEC_FIFO = 'exec.fifo';

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), EXEC_FIFO);
  }

  /** Claims an ID: the state dir is made exclusively, so two creates of one ID cannot both win. */
  claim(id: string): DirLock {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error('container with given ID already exists');
      throw err;
    }
    return DirLock.acquire(this.dir(id));
  }

  /** Locks an existing container for the length of one command. */
  lock(id: string): DirLock {
    try {
      return DirLock.acquire(this.dir(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('container does not exist');
      throw err;
    }
  }

  load(id: string): ContainerRecord {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('container does not exist');
      throw err;
    }
  }

  /** Written to a temporary name and renamed, so a reader never sees half a record. */
  save(record: ContainerRecord): void {
    const file = path.join(this.dir(record.id), STATE_FILE);
    fs.writeFileSync(file + '.tmp', JSON.stringify(record), { mode: 0o600 });
    fs.renameSync(file + '.tmp', file);
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** IDs of containers whose creation finished (their record exists). */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    return names.filter((name) => fs.existsSync(path.join(this.root, name, STATE_FILE))).sort();
  }
}
