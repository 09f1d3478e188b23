// What the process that becomes the container's (native/nsexec.c, rootfs.c, process.c) tells
// tsrunc on the sync socket, once the namespaces are entered: JSON lines.
export type FromContainerProcess =
  /** The rootfs plan is read: tsrunc sends the mount sources' fds now (container/mount-sources.ts). */
  | { type: 'mountSources' }
  /** Mounts made, "/" still the host's: tsrunc runs its hooks, then writes 'C'. */
  | { type: 'prePivot' }
  /** Every setting applied and the program found: the process waits on the exec fifo. */
  | { type: 'ready' }
  /** The executor's fd of its seccomp filter's listener (SCMP_ACT_NOTIFY); it waits for 'L'. */
  | { type: 'seccompListener'; fd: number }
  | { type: 'error'; message: string };
