// The seccomp filter of a RUN step: an allow-list in the spirit of docker's default profile, which
// BuildKit gives its RUN containers. Anything not listed fails with EPERM. The list is the ordinary
// life of a process (files, memory, signals, sockets, timers, threads, ids); what it leaves out is
// what docker leaves out for a container without CAP_SYS_ADMIN and friends: mount and the new mount
// API, unshare and setns (new namespaces, above all user namespaces, are the way to most kernel
// attack surface), pivot_root, module loading, kexec, reboot, swap, the clock, the keyring (not
// namespaced), bpf, perf_event_open, userfaultfd, io_uring, open_by_handle_at and the like. RUN
// holds docker's default capability set and never those capabilities, so docker's capability-gated
// parts of the profile do not arise here; --security=insecure drops the filter altogether.
import type { Features, LinuxSeccomp, LinuxSyscall } from '@tsrunc/spec-schemas';

const ALLOWED = [
  // files and directories
  'access', 'faccessat', 'faccessat2', 'chdir', 'fchdir', 'getcwd', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2',
  'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32', 'creat', 'open', 'openat', 'openat2',
  'close', 'close_range', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64', 'flock', 'link', 'linkat', 'symlink', 'symlinkat',
  'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir', 'mknod', 'mknodat',
  'readlink', 'readlinkat', 'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64', 'newfstatat',
  'statx', 'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64', 'truncate', 'truncate64',
  'ftruncate', 'ftruncate64', 'fallocate', 'fadvise64', 'fadvise64_64', 'arm_fadvise64_64', 'readahead',
  'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat', 'umask', 'chroot',
  'getxattr', 'lgetxattr', 'fgetxattr', 'setxattr', 'lsetxattr', 'fsetxattr', 'listxattr', 'llistxattr',
  'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
  'sync', 'syncfs', 'fsync', 'fdatasync', 'sync_file_range', 'sync_file_range2', 'arm_sync_file_range',
  'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
  // reading and writing
  'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2',
  'lseek', '_llseek', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'ioctl',
  'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64',
  // waiting on descriptors
  'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64',
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait',
  'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_settime',
  'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64', 'pipe', 'pipe2',
  // memory
  'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'mlock', 'mlock2',
  'mlockall', 'munlock', 'munlockall', 'remap_file_pages', 'membarrier', 'memfd_create', 'memfd_secret',
  'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'map_shadow_stack', 'cachestat',
  // processes, threads and their ids
  'execve', 'execveat', 'fork', 'vfork', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid', 'kill', 'tkill',
  'tgkill', 'getpid', 'getppid', 'gettid', 'getpgid', 'getpgrp', 'setpgid', 'getsid', 'setsid',
  'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
  'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32',
  'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32',
  'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setgroups', 'setgroups32',
  'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32', 'capget', 'capset', 'prctl', 'seccomp',
  'set_tid_address', 'set_robust_list', 'get_robust_list', 'rseq', 'set_thread_area', 'get_thread_area',
  'futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue',
  'pidfd_open', 'pidfd_send_signal', 'process_mrelease',
  'getrlimit', 'ugetrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'getpriority', 'setpriority',
  'ioprio_get', 'ioprio_set', 'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr',
  'sched_setattr', 'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler',
  'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  'getcpu', 'uname', 'sysinfo', 'getrandom', 'restart_syscall',
  'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
  // Tracing a process of the step (strace, gdb): safe since Linux 4.8, where a tracer can no
  // longer step around the tracee's seccomp filter; docker allows it from that kernel on.
  'ptrace', 'process_vm_readv', 'process_vm_writev',
  // signals
  'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigsuspend', 'rt_sigtimedwait',
  'rt_sigtimedwait_time64', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask', 'sigreturn',
  'pause', 'alarm', 'getitimer', 'setitimer',
  // time (reading it, sleeping, timers; setting the clock is refused)
  'time', 'gettimeofday', 'times', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
  'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep', 'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
  'timer_settime64',
  // sockets (socket itself below)
  'socketpair', 'socketcall', 'bind', 'listen', 'accept', 'accept4', 'connect', 'shutdown', 'getsockname',
  'getpeername', 'getsockopt', 'setsockopt', 'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom',
  'recvmsg', 'recvmmsg', 'recvmmsg_time64',
  // System V and POSIX IPC (namespaced by the step's IPC namespace)
  'ipc', 'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'semctl',
  'shmget', 'shmat', 'shmdt', 'shmctl', 'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedsend_time64',
  'mq_timedreceive', 'mq_timedreceive_time64', 'mq_notify', 'mq_getsetattr',
  // architecture-specific housekeeping (thread pointers, caches); unknown names are skipped per arch
  'arch_prctl', 'modify_ldt', 'breakpoint', 'cacheflush', 'set_tls',
];

const AF_VSOCK = 40;
/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const ENOSYS = 38;
/** personality(2) values programs use: PER_LINUX, PER_LINUX32, UNAME26 with either, and the query 0xffffffff. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const CONDITIONAL: LinuxSyscall[] = [
  // Any family but vsock, which reaches the hypervisor past the step's network namespace.
  { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }] },
  // New processes and threads, but no new namespaces through clone's flags.
  { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
  // clone3 passes its flags in memory, out of the filter's sight: ENOSYS makes libc fall back to clone.
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
  ...PERSONALITIES.map((value): LinuxSyscall => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
];

/** The ABIs a process of this machine may use: the native one and those the CPU runs beside it. */
const ARCHITECTURES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  ia32: ['SCMP_ARCH_X86'],
  arm: ['SCMP_ARCH_ARM'],
  riscv64: ['SCMP_ARCH_RISCV64'],
  ppc64: ['SCMP_ARCH_PPC64LE'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
};

type SeccompFeatures = NonNullable<NonNullable<Features['linux']>['seccomp']>;

/**
 * linux.seccomp for a RUN step, shaped to what the runtime says it supports (`tsrunc features`):
 * the step is never run with less confinement than asked, so a runtime without seccomp, or without
 * the actions and comparisons the profile uses, is an error.
 */
export function runSeccompProfile(supported: SeccompFeatures | undefined, arch: string = process.arch): LinuxSeccomp {
  if (!supported?.enabled) throw new Error('the runtime has no seccomp support: RUN steps cannot be confined (tsrunc features: linux.seccomp.enabled)');
  const syscalls: LinuxSyscall[] = [{ names: ALLOWED, action: 'SCMP_ACT_ALLOW' }, ...CONDITIONAL];
  const actions = new Set(['SCMP_ACT_ERRNO', ...syscalls.map((s) => s.action)]);
  const operators = new Set(syscalls.flatMap((s) => (s.args ?? []).map((a) => a.op)));
  for (const [kind, wanted, known] of [['action', actions, supported.actions], ['operator', operators, supported.operators]] as const) {
    const missing = [...wanted].filter((name) => !known?.includes(name));
    if (missing.length > 0) throw new Error(`the runtime's seccomp lacks the ${kind} ${missing.join(', ')} that RUN steps' profile uses`);
  }
  const native = ARCHITECTURES[arch];
  if (!native || !supported.archs?.includes(native[0]!)) throw new Error(`the runtime's seccomp does not support this machine's architecture (${arch})`);
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1, // EPERM, as docker's profile answers
    architectures: native.filter((a) => supported.archs!.includes(a)),
    syscalls,
  };
}
