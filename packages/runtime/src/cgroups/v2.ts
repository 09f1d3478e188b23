// The cgroup v2 manager: a single directory in the unified hierarchy. Controllers must be
// enabled in every ancestor's cgroup.subtree_control before their files appear in it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { CgroupError, enterCgroup, fileExists, readCgroupFile, readProcsRecursive, removeCgroupDir, writeCgroupFile } from './files.js';
import { freezeStateV2, freezeV2, thawV2, type FreezeState } from './freeze.js';
import { pollOomKills } from './oom.js';
import { applyV2Resources } from './resources-v2.js';
import { isSigkill, signalPids } from './signal.js';
import { statsV2 } from './stats.js';
import type { CgroupManager, CgroupRecord, CgroupStats } from './types.js';

/**
 * Enables in `dir`'s subtree_control every controller it has. One at a time, like runc's
 * fallback: a controller the kernel refuses here (e.g. a threaded-mode conflict) must not
 * block the others, and a resource that needs it later fails naming its missing file.
 */
function enableAllControllers(dir: string): void {
  const available = readCgroupFile(dir, 'cgroup.controllers').split(' ').filter((c) => c !== '');
  const enabled = new Set(readCgroupFile(dir, 'cgroup.subtree_control').split(' '));
  for (const controller of available) {
    if (enabled.has(controller)) continue;
    try {
      writeCgroupFile(dir, 'cgroup.subtree_control', `+${controller}`);
    } catch {
      // See above: reported later, by the resource that needs the controller.
    }
  }
}

export class V2Manager implements CgroupManager {
  /**
   * @param dir the container's cgroup directory
   * @param root the hierarchy root (only needed by create, to enable controllers downwards)
   */
  constructor(
    private readonly dir: string,
    private readonly root?: string,
    private readonly resources?: LinuxResources,
  ) {}

  create(): void {
    const root = this.root ?? path.dirname(this.dir);
    const relative = path.relative(root, this.dir);
    if (relative === '' || relative.startsWith('..')) throw new CgroupError(`cgroup ${this.dir} is not below the hierarchy root ${root}`);
    // Walk from the root to the container's parent, creating and enabling as we go.
    let current = root;
    for (const part of relative.split(path.sep)) {
      enableAllControllers(current);
      current = path.join(current, part);
      try {
        fs.mkdirSync(current);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new CgroupError(`create cgroup ${current}: ${(err as Error).message}`, (err as NodeJS.ErrnoException).code);
        }
      }
    }
    if (this.resources !== undefined) this.set(this.resources);
  }

  addProcess(pid: number): void {
    enterCgroup(this.dir, pid);
  }

  set(resources: LinuxResources): void {
    applyV2Resources(this.dir, resources);
  }

  freeze(): void {
    freezeV2(this.dir);
  }

  thaw(): void {
    thawV2(this.dir);
  }

  state(): FreezeState {
    return freezeStateV2(this.dir);
  }

  pids(): number[] {
    return readProcsRecursive(this.dir);
  }

  stats(): CgroupStats {
    return statsV2(this.dir);
  }

  watchOom(onOom: () => void): () => void {
    if (!fileExists(this.dir, 'memory.events')) {
      throw new CgroupError(`cannot watch for OOM kills: ${this.dir}/memory.events does not exist (memory controller not enabled)`);
    }
    return pollOomKills(this.dir, 'memory.events', onOom);
  }

  killAll(signal: NodeJS.Signals | number): void {
    // cgroup.kill (Linux 5.14+) kills the whole subtree atomically, forks included.
    if (isSigkill(signal) && fileExists(this.dir, 'cgroup.kill')) {
      writeCgroupFile(this.dir, 'cgroup.kill', '1');
      return;
    }
    const wasFrozen = this.state() === 'frozen';
    this.freeze();
    try {
      signalPids(this.pids(), signal);
    } finally {
      // Unlike v1, frozen v2 tasks do die from SIGKILL, so a paused container stays paused.
      if (!wasFrozen) this.thaw();
    }
  }

  destroy(): void {
    removeCgroupDir(this.dir);
  }

  toJSON(): CgroupRecord {
    return { version: 2, paths: { unified: this.dir } };
  }
}
