// The runtime's pure parts, without root: what config.json becomes (namespace, rootfs and process
// plans), the process executor's binary plan as native/process.c reads it, and the status table.
import t, { type Test } from 'tap';
import { defaultSpec } from '../src/container/spec-template.js';
import { planNamespaces, checkNamespaceRules } from '../src/launch/namespaces.js';
import { encodeProcessPlan } from '../src/process/native-plan.js';
import { planProcess } from '../src/process/plan.js';
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
