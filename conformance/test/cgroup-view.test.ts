// The container's view of cgroups under /sys/fs/cgroup, as runc gives it: its own cgroup per
// hierarchy, never the host's tree. On cgroup v1 without a cgroup namespace runc binds the
// container's cgroup directory of each controller (read-only unless the mount says rw), and with
// one it mounts each hierarchy anew, rooted at the namespace; on v2 tsrunc shows the container's
// own cgroup either way. Each case runs with tsrunc and, where runc shows the same, with runc.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { cgroupV2, missingControllers } from '../src/cgroup-files.js';
import { baseSpec, makeBundle, RUNC, runtime, TSRUNC, uniqueId, type Teardown } from '../src/harness.js';

const MEMORY = 64 * 1024 * 1024;
const PIDS = 42;
const sibling = `tsrunc-view-sibling-${process.pid}`;
/** Where the sibling cgroup is made on the host: a cgroup the container must not see. */
const siblingDir = cgroupV2 ? `/sys/fs/cgroup/${sibling}` : `/sys/fs/cgroup/memory/${sibling}`;

// Limits, what the root of the memory hierarchy shows, whether a cgroup can be made, and whether
// the host's root files (release_agent on v1, cgroup.subtree_control's siblings on v2) are seen.
const memoryDir = cgroupV2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory';
const SCRIPT = [
  `cat ${memoryDir}/${cgroupV2 ? 'memory.max' : 'memory.limit_in_bytes'} ${cgroupV2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids'}/pids.max`,
  `test -e ${memoryDir}/${sibling} && echo sibling-visible || echo sibling-hidden`,
  `test -e ${memoryDir}/release_agent && echo release_agent-visible || echo release_agent-hidden`,
  `if mkdir ${memoryDir}/made 2>/dev/null; then rmdir ${memoryDir}/made; echo writable; else echo read-only; fi`,
].join('; ');

function view(t: Teardown, binary: string, edit: (spec: Spec) => void): string {
  const spec = baseSpec(['sh', '-c', SCRIPT]);
  spec.linux!.cgroupsPath = `/${uniqueId('tsrunc-view')}`;
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: MEMORY }, pids: { limit: PIDS } };
  edit(spec);
  const bundle = makeBundle(t, spec);
  const r = runtime(t, binary).call(['run', '--bundle', bundle.dir, uniqueId()]);
  if (r.status !== 0) throw new Error(`${path.basename(binary)} run exited with ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

const withoutCgroupNs = (s: Spec) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup'); };
const withCgroupNs = (s: Spec) => { withoutCgroupNs(s); s.linux!.namespaces!.push({ type: 'cgroup' }); };
const cgroupMountRw = (s: Spec) => {
  for (const m of s.mounts!) if (m.type === 'cgroup') m.options = [...(m.options ?? []).filter((o) => o !== 'ro'), 'rw'];
};

const expected = (writable: boolean) =>
  `${MEMORY}\n${PIDS}\nsibling-hidden\nrelease_agent-hidden\n${writable ? 'writable' : 'read-only'}\n`;

t.test('the container sees its own cgroup', { skip: missingControllers() }, async (t) => {
  fs.mkdirSync(siblingDir);
  t.teardown(() => fs.rmdirSync(siblingDir));
  const cases: { name: string; edit: (s: Spec) => void; writable: boolean; runcAgrees: boolean }[] = [
    // runc mounts cgroup2 anew without a namespace on v2, showing the host's tree: not an oracle there.
    { name: 'no cgroup namespace, read-only mount', edit: withoutCgroupNs, writable: false, runcAgrees: !cgroupV2 },
    { name: 'no cgroup namespace, rw mount', edit: (s) => { withoutCgroupNs(s); cgroupMountRw(s); }, writable: true, runcAgrees: !cgroupV2 },
    { name: 'a cgroup namespace, read-only mount', edit: withCgroupNs, writable: false, runcAgrees: true },
    { name: 'a cgroup namespace, rw mount', edit: (s) => { withCgroupNs(s); cgroupMountRw(s); }, writable: true, runcAgrees: true },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      t.equal(view(t, TSRUNC, c.edit), expected(c.writable), 'tsrunc');
      if (c.runcAgrees) t.equal(view(t, RUNC, c.edit), expected(c.writable), 'runc shows the same');
    });
  }
});
