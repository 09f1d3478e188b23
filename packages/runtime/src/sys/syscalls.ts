// Numbers of the system calls that glibc does not wrap, per architecture. (Calls added to the
// shared table since Linux 5.x, such as openat2 and mount_setattr, have one number everywhere.)
type Unwrapped = 'pivot_root' | 'mount_setattr' | 'keyctl' | 'bpf' | 'openat2' | 'sched_setattr' | 'ioprio_set' | 'open_tree' | 'move_mount'
  | 'pidfd_open' | 'pidfd_getfd';

const NUMBERS: Record<string, Record<Unwrapped, number>> = {
  x64: { pivot_root: 155, mount_setattr: 442, keyctl: 250, bpf: 321, openat2: 437, sched_setattr: 314, ioprio_set: 251, open_tree: 428, move_mount: 429, pidfd_open: 434, pidfd_getfd: 438 },
  arm64: { pivot_root: 41, mount_setattr: 442, keyctl: 219, bpf: 280, openat2: 437, sched_setattr: 274, ioprio_set: 30, open_tree: 428, move_mount: 429, pidfd_open: 434, pidfd_getfd: 438 },
};

export function syscallNumber(name: Unwrapped): number {
  const numbers = NUMBERS[process.arch];
  if (!numbers) throw new Error(`architecture ${process.arch} is not supported`);
  return numbers[name];
}
