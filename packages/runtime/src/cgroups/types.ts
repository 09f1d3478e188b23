// The public shapes of the cgroup manager. CgroupStats follows the "data" object of runc's
// `events --stats` (libcontainer's types.Stats), with camelCase keys.
import type { LinuxResources } from '@tsrunc/spec-schemas';

export interface CgroupOptions {
  id: string;
  cgroupsPath?: string;
  systemd: boolean;
  resources?: LinuxResources;
}

/** One per-device blkio counter, as in runc's BlkioStatEntry. */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  memory: {
    usage: { limit: number; usage: number; max: number; failcnt: number };
    swap?: { limit: number; usage: number; max: number; failcnt: number };
    raw?: Record<string, number>;
  };
  pids: { current: number; limit?: number };
  blkio?: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
  hugetlb?: Record<string, { usage: number; max: number; failcnt: number }>;
}

/**
 * What the state file keeps: the version and every directory the manager owns, keyed by
 * controller on v1 ("cpu", "memory", "name=systemd", ...) and as "unified" on v2.
 */
export interface CgroupRecord {
  version: 1 | 2;
  paths: Record<string, string>;
}

export interface CgroupManager {
  /** Creates the directories (enabling v2 controllers on the way down), then applies resources. */
  create(): void;
  addProcess(pid: number): void;
  set(resources: LinuxResources): void;
  freeze(): void;
  thaw(): void;
  state(): 'frozen' | 'thawed';
  pids(): number[];
  stats(): CgroupStats;
  /** Calls onOom each time the kernel OOM-kills a task in the cgroup; returns a stop function. */
  watchOom(onOom: () => void): () => void;
  killAll(signal: NodeJS.Signals | number): void;
  destroy(): void;
  toJSON(): CgroupRecord;
}
