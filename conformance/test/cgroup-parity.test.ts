// How tsrunc treats the container's cgroup where runc 1.1.5's cgroups.bats found it apart: a
// hybrid host's cgroup2 hierarchy, a cgroup already there (shared, or frozen), and resources
// refused before anything is made.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { baseSpec, makeBundle, runtime, uniqueId, type Runtime, type Teardown } from '../src/harness.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const hybrid = fs.existsSync(`${CGROUP_ROOT}/unified/cgroup.procs`) && !fs.existsSync(`${CGROUP_ROOT}/cgroup.controllers`);
const v1 = fs.existsSync(`${CGROUP_ROOT}/freezer/freezer.state`) || fs.existsSync(`${CGROUP_ROOT}/freezer`);

/** Every hierarchy's directory of the cgroup path `inner`. */
function hierarchyDirs(inner: string): string[] {
  if (!v1) return [path.join(CGROUP_ROOT, inner)];
  return fs.readdirSync(CGROUP_ROOT).map((h) => path.join(CGROUP_ROOT, h, inner)).filter((d) => !fs.lstatSync(path.dirname(d), { throwIfNoEntry: false })?.isSymbolicLink());
}

function existing(inner: string): string[] {
  return hierarchyDirs(inner).filter((d) => fs.existsSync(d));
}

/** A cgroupsPath of the test's own, removed (leaf first) whatever is left of it. */
function cgroupsPath(t: Teardown, parent: string, leaf: string): string {
  t.teardown(() => {
    for (const inner of [`${parent}/${leaf}`, parent]) for (const d of existing(inner)) fs.rmdirSync(d);
  });
  return `/${parent}/${leaf}`;
}

function create(rt: Runtime, t: Teardown, inner: string, edit: (spec: ReturnType<typeof baseSpec>) => void = () => {}) {
  const spec = baseSpec(['sleep', '1000']);
  spec.linux!.cgroupsPath = inner;
  edit(spec);
  const id = uniqueId('cgp');
  return { id, result: rt.call(['create', '--bundle', makeBundle(t, spec).dir, id]) };
}

t.test('a hybrid host: the container is in the cgroup2 hierarchy too, as with runc', { skip: !hybrid && 'not a hybrid cgroup host' }, async (t) => {
  const rt = runtime(t);
  const parent = uniqueId('hyb');
  const inner = cgroupsPath(t, parent, 'ct');
  const { id, result } = create(rt, t, inner);
  t.equal(result.status, 0, result.stderr);
  const pid = JSON.parse(rt.call(['state', id]).stdout).pid as number;
  t.match(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`^0::${inner}$`, 'm'), 'the init is in 0::<cgroupsPath>');
  const exec = rt.call(['exec', id, 'cat', '/proc/self/cgroup']);
  t.match(exec.stdout, new RegExp(`^0::${inner}$`, 'm'), 'so is an exec');
  t.equal(rt.call(['delete', '--force', id]).status, 0);
  t.notOk(fs.existsSync(`${CGROUP_ROOT}/unified${inner}`), 'delete removes the cgroup2 directory');
});

t.test('a frozen cgroup is refused at create, not waited on forever, and left as it was', async (t) => {
  const rt = runtime(t);
  const parent = uniqueId('frz');
  const inner = cgroupsPath(t, parent, 'ct');
  const freezer = v1 ? path.join(CGROUP_ROOT, 'freezer', inner) : path.join(CGROUP_ROOT, inner);
  fs.mkdirSync(freezer, { recursive: true });
  fs.writeFileSync(path.join(freezer, v1 ? 'freezer.state' : 'cgroup.freeze'), v1 ? 'FROZEN' : '1');
  t.teardown(() => fs.writeFileSync(path.join(freezer, v1 ? 'freezer.state' : 'cgroup.freeze'), v1 ? 'THAWED' : '0'));
  const began = Date.now();
  const { id, result } = create(rt, t, inner);
  t.equal(result.status, 1, 'create fails');
  t.match(result.stderr, /container's cgroup unexpectedly frozen/, 'in runc\'s words');
  t.ok(Date.now() - began < 10_000, 'without waiting for the cgroup to thaw');
  t.not(rt.call(['state', id]).status, 0, 'no container');
  t.same(fs.readdirSync(rt.root), [], 'no state dir');
  t.same(existing(inner), [freezer], 'no cgroup made, the frozen one kept');
});

t.test('a cgroup that already holds processes: create warns, as runc does', async (t) => {
  const rt = runtime(t);
  const parent = uniqueId('shr');
  const inner = cgroupsPath(t, parent, 'ct');
  const first = create(rt, t, inner);
  t.equal(first.result.status, 0, first.result.stderr);
  t.notMatch(first.result.stderr, /not empty/, 'not for an empty one');
  const second = create(rt, t, inner);
  t.equal(second.result.status, 0, second.result.stderr);
  t.match(second.result.stderr, /level=warning msg="container's cgroup is not empty: 1 process\(es\) found"/);
  for (const id of [second.id, first.id]) t.equal(rt.call(['delete', '--force', id]).status, 0);
});

/** Values the kernel's cgroup files refuse, or that this host's cgroup version has no file for. */
const refused: { name: string; error: RegExp; resources: NonNullable<NonNullable<ReturnType<typeof baseSpec>['linux']>['resources']> }[] = [
  { name: 'cpu.shares below the kernel\'s minimum', error: /cpu\.shares 1 is not in \[2, 262144\]/, resources: { cpu: { shares: 1 } } },
  { name: 'a cfs period below 1ms', error: /cpu\.period 10 is not in \[1000, 1000000\]/, resources: { cpu: { period: 10, quota: 20000 } } },
  { name: 'a memory limit below -1', error: /memory\.limit -5 is negative/, resources: { memory: { limit: -5 } } },
  { name: 'a cpuset that is not a list', error: /cpu\.cpus \\?"0-x\\?" is not a list/, resources: { cpu: { cpus: '0-x' } } },
  { name: 'a hugepage size the host does not have', error: /pageSize \\?"3MB\\?" is not a huge page size of this host/, resources: { hugepageLimits: [{ pageSize: '3MB', limit: 1 << 22 }] } },
  v1
    ? { name: 'unified resources on cgroup v1', error: /invalid configuration: cannot use unified on cgroup v1/, resources: { unified: { 'memory.max': '1' } } }
    : { name: 'a unified key that is no controller file', error: /unified key \\?"cgroup\.procs\\?" is not a controller file/, resources: { unified: { 'cgroup.procs': '1' } } },
];

for (const c of refused) {
  t.test(`cgroup resources are checked before anything is made: ${c.name}`, async (t) => {
    const rt = runtime(t);
    const parent = uniqueId('val');
    const inner = cgroupsPath(t, parent, 'ct');
    const { id, result } = create(rt, t, inner, (spec) => { spec.linux!.resources = c.resources; });
    t.equal(result.status, 1, 'create fails');
    t.match(result.stderr, /invalid configuration/, 'saying the configuration is invalid');
    t.match(result.stderr, c.error, `naming the value: ${result.stderr.trim()}`);
    t.equal(result.stderr.trim().split('\n').length, 1, 'in one line');
    t.same(fs.readdirSync(rt.root), [], 'no state dir');
    // Made and undone, the leaf would be gone but its parent left: neither was made.
    t.same([...existing(inner), ...existing(parent)], [], 'no cgroup directory, not even the parent');
    t.not(rt.call(['state', id]).status, 0);
  });
}
