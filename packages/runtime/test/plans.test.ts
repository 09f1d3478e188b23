// The runtime's pure parts, without root: what config.json becomes (namespace, rootfs and process
// plans), the native executors' binary plans as native/rootfs.c and process.c read them, and the
// status table.
import t, { type Test } from 'tap';
import { defaultSpec } from '../src/container/spec-template.js';
import { planNamespaces, checkNamespaceRules } from '../src/launch/namespaces.js';
import { encodeProcessPlan } from '../src/process/native-plan.js';
import { planProcess } from '../src/process/plan.js';
import { cgroupMountSteps, type CgroupView } from '../src/rootfs/cgroup-mount.js';
import { encodeRootfsPlan } from '../src/rootfs/native-plan.js';
import { planRootfs } from '../src/rootfs/plan.js';
import { InvalidStatusError } from '../src/state/errors.js';
import { requireStatus, TRANSITIONS, type Status } from '../src/state/status.js';

/** The records of an encoded plan: [tag, value] in order, after the u32 length. */
function records(t: Test, plan: Buffer): [number, Buffer][] {
  t.equal(plan.readUInt32LE(0), plan.length - 4, 'the length prefix counts the records');
  const out: [number, Buffer][] = [];
  for (let off = 4; off < plan.length;) {
    const tag = plan.readUInt32LE(off), size = plan.readUInt32LE(off + 4);
    out.push([tag, plan.subarray(off + 8, off + 8 + size)]);
    off += 8 + size;
  }
  return out;
}

t.test('namespaces: joined by path (the user namespace first) or created', async (t) => {
  const plan = planNamespaces([{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }]);
  t.same(plan.join.map((j) => j.type), ['user', 'network'], 'the user namespace is joined first');
  t.equal(plan.cloneFlags, 0x20000000 | 0x00020000, 'pid and mount are created');
  t.throws(() => planNamespaces([{ type: 'pid' }, { type: 'pid' }]), /duplicate namespace type "pid"/);
  t.throws(() => checkNamespaceRules(planNamespaces([{ type: 'user' }, { type: 'mount' }]), {}), /no uid\/gid mappings/);
});

t.test('rootfs plan: pivot_root, move or chroot, and what a container in the host\'s mount namespace may not ask', async (t) => {
  const plan = (edit: (spec: ReturnType<typeof defaultSpec>) => void, noPivot = false) => {
    const spec = defaultSpec(false);
    edit(spec);
    return planRootfs(spec, { bundle: '/b', rootfs: '/b/rootfs', noPivot });
  };
  const withoutMount = (spec: ReturnType<typeof defaultSpec>) => {
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
    delete spec.linux!.maskedPaths;
    delete spec.linux!.readonlyPaths;
  };
  t.match(plan(() => {}), { jail: 'pivot_root', hostMountNamespace: false }, 'a mount namespace of its own: pivot_root');
  t.match(plan(() => {}, true), { jail: 'move', hostMountNamespace: false }, '--no-pivot: moved over "/"');
  t.match(plan(withoutMount), { jail: 'chroot', hostMountNamespace: true }, 'none: chroot in the host\'s');
  t.match(plan(withoutMount, true), { jail: 'chroot' }, 'none, with --no-pivot: chroot still, never a move over the host\'s "/"');
  const hostJoined = plan((spec) => {
    withoutMount(spec);
    spec.linux!.namespaces!.push({ type: 'mount', path: '/proc/self/ns/mnt' });
  });
  t.match(hostJoined, { jail: 'chroot', hostMountNamespace: true }, 'the host\'s own joined by path counts as none');
  t.throws(() => plan((spec) => { withoutMount(spec); spec.linux!.maskedPaths = ['/proc/kcore']; }), /^unable to restrict sys entries without a private MNT namespace$/);
  t.throws(() => plan((spec) => { withoutMount(spec); spec.linux!.readonlyPaths = ['/proc/sys']; }), /^unable to restrict sys entries without a private MNT namespace$/);
  t.throws(() => plan((spec) => { withoutMount(spec); spec.linux!.rootfsPropagation = 'rshared'; }), /rootfsPropagation "rshared" needs a private mount namespace/);
  t.throws(() => plan((spec) => { withoutMount(spec); spec.linux!.namespaces!.push({ type: 'user' }); }), /^a user namespace needs a private mount namespace too/);
});

/** A hybrid v1 host: memory, cpu and cpuacct co-mounted, and cgroup2 at "unified". */
const HYBRID: CgroupView = {
  hierarchies: [
    { name: 'memory', fstype: 'cgroup', controllers: 'memory', mountpoint: '/sys/fs/cgroup/memory', root: '/' },
    { name: 'cpu,cpuacct', fstype: 'cgroup', controllers: 'cpu,cpuacct', mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/' },
    { name: 'unified', fstype: 'cgroup2', controllers: '', mountpoint: '/sys/fs/cgroup/unified', root: '/' },
  ],
  own: { memory: '/ctr', cpu: '/ctr', cpuacct: '/ctr', '': '/ctr' },
};

t.test('cgroup mounts: the container\'s own directories bound, or new filesystems in its cgroup namespace', async (t) => {
  const ro = { source: 'cgroup', destination: '/sys/fs/cgroup', type: 'cgroup', bind: false, flags: 0x1, data: '', propagation: [], attrSet: 0, attrClear: 0, copyUp: false };
  const steps = cgroupMountSteps(ro, false, HYBRID);
  const flags = 0x1 | 0x2 | 0x4 | 0x8; // ro, nosuid, nodev, noexec
  t.same(steps.map((s) => s.step === 'mount' ? `mount ${s.mount.bind ? 'bind ' + s.mount.source : s.mount.type} ${s.mount.destination}` : s.step === 'remount' ? `remount ${s.destination} 0x${s.flags.toString(16)}` : `symlink ${s.path} -> ${s.target}`), [
    'mount tmpfs /sys/fs/cgroup',
    'mount bind /sys/fs/cgroup/memory/ctr /sys/fs/cgroup/memory', `remount /sys/fs/cgroup/memory 0x${flags.toString(16)}`,
    'mount bind /sys/fs/cgroup/cpu,cpuacct/ctr /sys/fs/cgroup/cpu,cpuacct', `remount /sys/fs/cgroup/cpu,cpuacct 0x${flags.toString(16)}`,
    'symlink /sys/fs/cgroup/cpu -> cpu,cpuacct', 'symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct',
    'remount /sys/fs/cgroup 0x1',
  ], 'v1: a tmpfs of the host\'s v1 hierarchies (cgroup2 left out), each the container\'s own directory, read-only last');
  const tmpfs = steps[0]!;
  t.ok(tmpfs.step === 'mount' && (tmpfs.mount.flags & 0x1) === 0, 'the tmpfs is writable until its directories are made');
  const own = cgroupMountSteps({ ...ro, type: 'cgroup2' }, true, HYBRID);
  t.same(own.map((s) => s.step === 'mount' ? [s.mount.type, s.mount.source, s.mount.bind] : s.step), [['cgroup2', 'cgroup2', false], 'remount'], 'cgroup2 asked by type, in a cgroup namespace: a new filesystem');
  t.throws(() => cgroupMountSteps({ ...ro, type: 'cgroup2' }, false, { hierarchies: HYBRID.hierarchies.slice(0, 2), own: HYBRID.own }), /no cgroup2 hierarchy/);
  t.throws(() => cgroupMountSteps(ro, false, { hierarchies: HYBRID.hierarchies, own: {} }), /no cgroup in the memory hierarchy/);
});

t.test('rootfs plan: encoded as the operations native/rootfs.c performs, in runc\'s order', async (t) => {
  const spec = defaultSpec(false);
  spec.hostname = 'box';
  const plan = planRootfs(spec, { bundle: '/b', rootfs: '/b/rootfs', noPivot: false });
  const state = { ociVersion: '1.2.0', id: 'c', status: 'creating' as const, pid: 7, bundle: '/b' };
  const ops = records(t, encodeRootfsPlan(plan, {
    sessionKeyring: 'c', mountSources: [], createContainerHooks: [{ path: '/bin/true', timeout: 2 }], state,
    console: { socketFd: 5, size: { height: 24, width: 80 } }, cgroups: HYBRID,
  }));
  const tags = ops.map(([tag]) => tag);
  const OP = { keyring: 1, prepare: 3, procAllowed: 4, mount: 5, remount: 7, device: 8, symlink: 9, mkdir: 10, prePivot: 11, hook: 12, jail: 13, console: 15, hostname: 17, readonlyPath: 19, maskPath: 20 };
  const first = (tag: number) => tags.indexOf(tag);
  t.same(tags.slice(0, 2), [OP.keyring, OP.prepare], 'the keyring, then the rootfs\' own mount');
  t.ok(first(OP.procAllowed) < first(OP.mount), 'what may land below /proc is known before the first mount');
  t.ok(tags.lastIndexOf(OP.mount) < first(OP.device) && first(OP.device) < first(OP.mkdir), 'mounts, then /dev, then the cwd');
  t.same([first(OP.prePivot), first(OP.hook), first(OP.jail)].sort((a, b) => a - b), [first(OP.prePivot), first(OP.hook), first(OP.jail)], 'tsrunc\'s hooks, createContainer, then pivot_root');
  t.ok(first(OP.jail) < first(OP.console) && first(OP.console) < first(OP.hostname), 'the console after the pivot, before anything is read-only');
  t.ok(first(OP.readonlyPath) < first(OP.maskPath), 'read-only paths, then masked paths');
  t.equal(ops[first(OP.jail)]![1].readUInt32LE(0), 0, 'pivot_root');
  t.equal(tags.filter((tag) => tag === OP.device).length, 6, 'the six default devices');
  const ptmx = ops.filter(([tag, v]) => tag === OP.symlink && v.includes('/dev/ptmx'));
  t.equal(ptmx.length, 1, '/dev/ptmx');
  t.equal(ptmx[0]![1].readUInt32LE(0), 1, '/dev/ptmx replaces an image\'s node');
  const proc = ops.find(([tag, v]) => tag === OP.mount && v.subarray(20).toString().startsWith('proc\0/proc\0'));
  t.ok(proc, 'proc is mounted');
  t.equal(proc![1].readUInt32LE(12) & (8 | 16), 8 | 16, 'proc may land on /proc, and only where config.json says');
  const hook = ops[first(OP.hook)]![1];
  t.equal(hook.readUInt32LE(0), 2, 'the hook\'s timeout');
  t.match(hook.subarray(12).toString(), /^\/bin\/true\0\/bin\/true\0\{"ociVersion"/, 'path, argv, then the state');
});

t.test('process plan: checked on the host, encoded for the executor', async (t) => {
  const spec = defaultSpec(false);
  spec.process!.args = ['sh', '-c', 'echo ü'];
  spec.process!.env = ['PATH=/bin', 'A=b'];
  spec.process!.user = { uid: 1000, gid: 100, additionalGids: [10, 20], umask: 0o077 };
  spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }];
  spec.process!.noNewPrivileges = true;
  const plan = planProcess(spec, { preserveFds: 2, preservedFdBase: 5 });
  const recs = records(t, encodeProcessPlan(plan, { execFifoFd: 4 }));
  const texts = (tag: number) => recs.filter(([r]) => r === tag).map(([, v]) => v.toString('utf8'));
  const value = (tag: number) => recs.find(([r]) => r === tag)?.[1];
  t.same(texts(1), ['sh', '-c', 'echo ü'], 'args, in order, as UTF-8');
  t.same(texts(2), ['PATH=/bin', 'A=b'], 'env');
  t.same(texts(3), ['/'], 'cwd');
  t.same([value(4)!.readUInt32LE(0), value(4)!.readUInt32LE(4)], [1000, 100], 'uid and gid');
  t.same([value(5)!.readUInt32LE(0), value(5)!.readUInt32LE(4)], [10, 20], 'additional gids');
  t.equal(value(6)!.readUInt32LE(0), 0o077, 'umask');
  const rlimit = value(7)!;
  t.same([rlimit.readUInt32LE(0), rlimit.readBigUInt64LE(4), rlimit.readBigUInt64LE(12)], [7, 1024n, 4096n], 'RLIMIT_NOFILE soft and hard');
  const caps = value(8)!;
  t.equal(caps.readBigUInt64LE(8) & (1n << 5n), 1n << 5n, 'CAP_KILL is effective, as runc\'s default spec says');
  t.equal(caps.readBigUInt64LE(8) & (1n << 21n), 0n, 'CAP_SYS_ADMIN is not');
  t.ok(value(9), 'no_new_privs');
  t.same([value(18)!.readUInt32LE(0), value(18)!.readUInt32LE(4)], [2, 5], '--preserve-fds: count and where they are');
  t.equal(value(19)!.readUInt32LE(0), 4, 'the exec fifo');
  t.notOk(value(14), 'no seccomp record without linux.seccomp');
});

t.test('process plan refusals happen at planning, not inside the container', async (t) => {
  const spec = defaultSpec(false);
  spec.process!.args = [];
  t.throws(() => planProcess(spec, { preserveFds: 0 }), /process.args must not be empty/);
  spec.process!.args = ['true'];
  spec.process!.cwd = 'relative';
  t.throws(() => planProcess(spec, { preserveFds: 0 }), /must be an absolute path/);
  spec.process!.cwd = '/';
  spec.process!.capabilities = { bounding: ['CAP_NOT_A_CAP'] };
  t.throws(() => planProcess(spec, { preserveFds: 0 }), /unknown capability "CAP_NOT_A_CAP"/);
});

t.test('the status table: what each operation allows, with runc\'s words', async (t) => {
  const statuses: Status[] = ['creating', 'created', 'running', 'paused', 'stopped'];
  for (const [operation, transition] of Object.entries(TRANSITIONS)) {
    for (const status of statuses) {
      const allowed = transition.from.includes(status);
      if (allowed) t.doesNotThrow(() => requireStatus(operation as keyof typeof TRANSITIONS, status, 'c1'), `${operation} in ${status}`);
      else t.throws(() => requireStatus(operation as keyof typeof TRANSITIONS, status, 'c1'), InvalidStatusError, `${operation} refused in ${status}`);
    }
  }
  t.throws(() => requireStatus('start', 'stopped', 'c1'), /cannot start a container that has stopped/);
  t.throws(() => requireStatus('start', 'running', 'c1'), /cannot start an already running container/);
  t.throws(() => requireStatus('delete', 'running', 'c1'), /cannot delete container c1 that is not stopped: running/);
  t.throws(() => requireStatus('exec', 'paused', 'c1'), /cannot exec in a paused container/);
  t.equal(TRANSITIONS.start.to, 'running');
  t.equal(TRANSITIONS.pause.to, 'paused');
});
