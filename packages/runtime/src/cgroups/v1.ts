// The cgroup v1 manager: one directory per mounted hierarchy (co-mounted controllers such as
// "cpu,cpuacct" share one), all holding the container's processes.
import * as path from 'node:path';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { makeDirs } from '../sys/make-dirs.js';
import { CgroupError, enterCgroup, fileExists, readCgroupFile, readProcsRecursive, removeCgroupDir, writeCgroupFile } from './files.js';
import { freezeStateV1, freezeV1, thawV1, type FreezeState } from './freeze.js';
import type { CgroupMode } from './mode.js';
import { pollOomKills } from './oom.js';
import { v1Dir } from './paths.js';
import { applyV1Resources } from './resources-v1.js';
import { isSigkill, signalPids } from './signal.js';
import { statsV1 } from './stats.js';
import type { CgroupManager, CgroupRecord, CgroupStats } from './types.js';

/**
 * The key of a hybrid host's cgroup2 hierarchy in the paths, as runc keys it ("" is also its
 * name in /proc/self/cgroup).
 */
const HYBRID_UNIFIED = '';

/**
 * Directories of `inner` in every mounted v1 hierarchy, keyed by controller name, and on a hybrid
 * host in its cgroup2 hierarchy too, where runc also places the container.
 */
export function v1Paths(mode: CgroupMode, inner: string, own: Record<string, string>): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [controller, mount] of Object.entries(mode.v1Mounts)) paths[controller] = v1Dir(mount, inner, own[controller]);
  if (mode.hybrid !== undefined) paths[HYBRID_UNIFIED] = v1Dir(mode.hybrid, inner, own['']);
  return paths;
}

/**
 * A fresh cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks in it
 * until both are set: copy them down from the nearest ancestor that has them.
 */
function inheritCpuset(dir: string): void {
  if (readCgroupFile(dir, 'cpuset.cpus') !== '' && readCgroupFile(dir, 'cpuset.mems') !== '') return;
  const parent = path.dirname(dir);
  if (!fileExists(parent, 'cpuset.cpus')) throw new CgroupError(`cannot inherit cpuset for ${dir}: no ancestor has cpuset.cpus`);
  inheritCpuset(parent);
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if (readCgroupFile(dir, file) === '') writeCgroupFile(dir, file, readCgroupFile(parent, file));
  }
}

export class V1Manager implements CgroupManager {
  constructor(
    private readonly paths: Record<string, string>,
    private readonly resources?: LinuxResources,
  ) {}

  /** Each directory once, even when controllers are co-mounted. */
  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  private need(controller: string, purpose: string): string {
    const dir = this.paths[controller];
    if (dir === undefined) throw new CgroupError(`cgroup v1 controller "${controller}" is not mounted on this host (needed to ${purpose})`);
    return dir;
  }

  /** The v1 directories; a hybrid host's cgroup2 one is joined on a best effort only. */
  private controllerDirs(): string[] {
    const hybrid = this.paths[HYBRID_UNIFIED];
    return this.dirs().filter((dir) => dir !== hybrid);
  }

  create(): void {
    for (const dir of this.controllerDirs()) {
      try {
        makeDirs(dir);
      } catch (err) {
        throw new CgroupError(`create cgroup: ${(err as Error).message}`, (err as NodeJS.ErrnoException).code);
      }
    }
    // As runc's "" group: no limit lives there, so a hierarchy we cannot write is no failure.
    const hybrid = this.paths[HYBRID_UNIFIED];
    if (hybrid !== undefined) {
      try {
        makeDirs(hybrid);
      } catch {
        // addProcess skips it too.
      }
    }
    const cpuset = this.paths['cpuset'];
    if (cpuset !== undefined) inheritCpuset(cpuset);
    if (this.resources !== undefined) this.set(this.resources);
  }

  addProcess(pid: number): void {
    for (const dir of this.controllerDirs()) enterCgroup(dir, pid);
    const hybrid = this.paths[HYBRID_UNIFIED];
    if (hybrid !== undefined) {
      try {
        enterCgroup(hybrid, pid);
      } catch {
        // See create: the process stays where it was in that hierarchy, as with runc.
      }
    }
  }

  set(resources: LinuxResources): void {
    applyV1Resources(this.paths, resources);
  }

  freeze(): void {
    freezeV1(this.need('freezer', 'freeze the container'));
  }

  thaw(): void {
    thawV1(this.need('freezer', 'thaw the container'));
  }

  state(): FreezeState {
    return freezeStateV1(this.paths['freezer']);
  }

  pids(): number[] {
    // Every hierarchy holds the same tasks; prefer one that is always mounted with runc.
    const dir = this.paths['pids'] ?? this.paths['freezer'] ?? this.paths['devices'] ?? this.dirs()[0];
    return dir === undefined ? [] : [...new Set(readProcsRecursive(dir))];
  }

  stats(): CgroupStats {
    return statsV1(this.paths);
  }

  watchOom(onOom: () => void): () => void {
    return pollOomKills(this.need('memory', 'watch for OOM kills'), 'memory.oom_control', onOom);
  }

  killAll(signal: NodeJS.Signals | number): void {
    // Freezing first keeps tasks from forking new ones between listing and signalling.
    const canFreeze = this.paths['freezer'] !== undefined;
    const wasFrozen = this.state() === 'frozen';
    if (canFreeze) this.freeze();
    try {
      signalPids(this.pids(), signal);
    } finally {
      // A paused container stays paused, unless the signal was SIGKILL: frozen v1 tasks only
      // die once thawed.
      if (canFreeze && (!wasFrozen || isSigkill(signal))) this.thaw();
    }
  }

  destroy(): void {
    for (const dir of this.dirs()) removeCgroupDir(dir);
  }

  toJSON(): CgroupRecord {
    return { version: 1, paths: { ...this.paths } };
  }
}
