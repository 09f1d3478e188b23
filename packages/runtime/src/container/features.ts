// `tsrunc features`: what this runtime implements, as the runtime-spec features document.
import type { Features } from '@tsrunc/spec-schemas';
import { CLONE_FLAGS } from '../launch/namespaces.js';
import { CAPABILITIES } from '../process/capability-names.js';
import { MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES } from '../process/memory-policy.js';
import { SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../process/seccomp.js';
import { PROPAGATION } from '../rootfs/mount-options.js';
import { OCI_VERSION } from '../state/status.js';

const MOUNT_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'mand', 'noatime',
  'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow',
  'rbind', 'relatime', 'remount', 'ro', 'rw', 'strictatime', 'suid', 'symfollow', 'sync',
  'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime',
  'rrelatime', 'rnoatime', 'rstrictatime', 'rnosymfollow', 'rsymfollow',
];

/**
 * What tsrunc implements, whatever this host has (the spec: "irrelevant to the cgroup version of
 * the host", "to the availability of AppArmor on the host", ...), as runc reports it.
 */
export function runtimeFeatures(): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...MOUNT_OPTIONS, ...Object.keys(PROPAGATION)].sort(),
    linux: {
      namespaces: Object.keys(CLONE_FLAGS),
      capabilities: [...CAPABILITIES],
      // Both managers (cgroups/v1.ts, v2.ts); no systemd driver.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTIONS,
        operators: SECCOMP_OPERATORS,
        archs: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'],
        knownFlags: [...SECCOMP_FLAGS, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        supportedFlags: SECCOMP_FLAGS,
      },
      // The executor sets a profile or label for the next execve where the host has the module.
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      memoryPolicy: { modes: Object.keys(MEMORY_POLICY_MODES).sort(), flags: Object.keys(MEMORY_POLICY_FLAGS).sort() },
      netDevices: { enabled: true },
    },
    annotations: { 'io.github.tsrunc.version': '0.1.0' },
  };
}
