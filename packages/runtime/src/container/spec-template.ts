// `tsrunc spec`: the default config.json, the same container runc's template describes: busybox-
// friendly `sh` with a terminal, the usual mounts, a minimal capability set and masked paths.
import type { Spec } from '@tsrunc/spec-schemas';
import { detectCgroupMode } from '../cgroups/mode.js';
import { OCI_VERSION } from '../state/status.js';

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(rootless: boolean): Spec {
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrunc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' },
        // runc 1.1 adds a cgroup namespace only on a pure v2 host: its users add one on v1 (and a
        // duplicate entry is refused).
        ...(detectCgroupMode().version === 2 ? [{ type: 'cgroup' as const }] : [])],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return rootless ? toRootless(spec) : spec;
}

/** As runc's --rootless: a user namespace mapping the caller, no network namespace, no cgroup mount. */
function toRootless(spec: Spec): Spec {
  const linux = spec.linux!;
  linux.resources = undefined;
  linux.namespaces = [...linux.namespaces!.filter((ns) => ns.type !== 'network'), { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: process.getuid?.() ?? 0, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: process.getgid?.() ?? 0, size: 1 }];
  spec.mounts = spec.mounts!
    .filter((m) => m.type !== 'cgroup')
    .map((m) => (m.destination === '/dev/pts' ? { ...m, options: m.options!.filter((o) => o !== 'gid=5') } : m));
  spec.mounts.push({ destination: '/sys/fs/cgroup', type: 'none', source: '/sys/fs/cgroup', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const sys = spec.mounts.find((m) => m.destination === '/sys')!;
  Object.assign(sys, { type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  return spec;
}
