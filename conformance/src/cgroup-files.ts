// A container's cgroup files as the kernel shows them, on whichever layout the host has: one
// directory per v1 controller, or the one cgroup2 directory. Found from /proc/PID/cgroup, as
// where the runtime put the process is what is being checked.
import fs from 'node:fs';

const CGROUP_ROOT = '/sys/fs/cgroup';
export const cgroupV2 = fs.existsSync(`${CGROUP_ROOT}/cgroup.controllers`);

/** Why the resource checks cannot run here, if they cannot: the memory and pids controllers are needed. */
export function missingControllers(): string | false {
  const available = cgroupV2
    ? fs.readFileSync(`${CGROUP_ROOT}/cgroup.controllers`, 'utf8').trim().split(' ')
    : ['memory', 'pids'].filter((c) => fs.existsSync(`${CGROUP_ROOT}/${c}/cgroup.procs`));
  const missing = ['memory', 'pids'].filter((c) => !available.includes(c));
  return missing.length > 0 ? `the ${missing.join(' and ')} controller${missing.length > 1 ? 's are' : ' is'} not available at ${CGROUP_ROOT}` : false;
}

/** The directory of `pid`'s cgroup for `controller` (v1), or of its one cgroup (v2). */
export function cgroupDir(pid: number | string, controller: 'memory' | 'pids' | 'freezer'): string {
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (cgroupV2 ? controllers === '' : controllers!.split(',').includes(controller)) {
      return cgroupV2 ? `${CGROUP_ROOT}${path}` : `${CGROUP_ROOT}/${controller}${path}`;
    }
  }
  throw new Error(`process ${pid} has no ${cgroupV2 ? 'cgroup2' : controller} cgroup`);
}

const read = (file: string) => fs.readFileSync(file, 'utf8').trim();

export const memoryLimit = (dir: string) => read(`${dir}/${cgroupV2 ? 'memory.max' : 'memory.limit_in_bytes'}`);
export const pidsLimit = (dir: string) => read(`${dir}/pids.max`);
export const procs = (dir: string) => read(`${dir}/cgroup.procs`).split('\n');
export const frozen = (dir: string) => (cgroupV2 ? /^frozen 1$/m.test(read(`${dir}/cgroup.events`)) : read(`${dir}/freezer.state`) === 'FROZEN');
