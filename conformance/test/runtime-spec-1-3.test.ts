// runtime-spec 1.3's linux.netDevices and linux.memoryPolicy on real containers, and the features
// document that announces them. (runc 1.1.5, the oracle elsewhere, predates both: runc 1.2+
// implements them, and tsrunc follows its rules.) Network devices are veth pairs made by each test;
// their host side must leave the host while the container lives, keep its permanent global
// addresses inside, come back whole from a failed create, and be gone with the container (a virtual
// device dies with its namespace).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { checkDocument } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, runtime, uniqueId, type Bundle, type Runtime, type Teardown } from '../src/harness.js';

type Asserts = Pick<typeof t, 'equal' | 'not' | 'notOk' | 'match'>;

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

const hostHas = (name: string): boolean => fs.existsSync(`/sys/class/net/${name}`);

/** Whether the host's device `name` disappears within `ms`. */
async function gone(name: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; hostHas(name); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) return false;
  }
  return true;
}

let pairs = 0;

/** A veth pair on the host, `a` with an IPv4 and an IPv6 address (documentation ranges) and up; removed at the end. */
function vethPair(t: Teardown): { a: string; b: string } {
  const base = `tv${process.pid % 100000}${++pairs}`;
  const a = `${base}a`, b = `${base}b`;
  ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  // Either end's removal takes the other: whichever is left goes, if any is.
  t.teardown(() => void spawnSync('ip', ['link', 'del', hostHas(a) ? a : b]));
  ip('addr', 'add', '192.0.2.13/24', 'dev', a);
  ip('addr', 'add', '2001:db8::13/64', 'dev', a, 'nodad');
  ip('link', 'set', a, 'up');
  return { a, b };
}

function run(rt: Runtime, bundle: Bundle) {
  return rt.call(['run', '--bundle', bundle.dir, uniqueId('rs13')]);
}

/** The message of a logfmt error line (time=... level=error msg="..."), unquoted. */
function logMessage(line: string): string {
  const quoted = /msg=("(?:[^"\\]|\\.)*")/.exec(line);
  return quoted ? (JSON.parse(quoted[1]!) as string) : line;
}

/** create must fail with one line whose message matches `error`, and leave no state dir. */
function assertCreateFails(t: Asserts, rt: Runtime, bundle: Bundle, error: RegExp): void {
  const id = uniqueId('rs13');
  const r = rt.call(['create', '--bundle', bundle.dir, id]);
  t.not(r.status, 0, 'create exits non-zero');
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line of error: ${r.stderr}`);
  t.match(logMessage(lines[0]!), error, 'naming the problem');
  t.notOk(fs.existsSync(path.join(rt.root, id)), 'no state dir is left');
}

t.test('features announces memoryPolicy and netDevices, and the document stays valid', async (t) => {
  const r = runtime(t).call(['features']);
  t.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { linux: { memoryPolicy: { modes: string[]; flags: string[] }; netDevices: { enabled: boolean }; cgroup: Record<string, boolean> } };
  t.equal(checkDocument('features', doc), undefined);
  t.same(doc.linux.netDevices, { enabled: true });
  t.same(doc.linux.memoryPolicy.modes, ['MPOL_BIND', 'MPOL_DEFAULT', 'MPOL_INTERLEAVE', 'MPOL_LOCAL', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE']);
  t.same(doc.linux.memoryPolicy.flags, ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']);
  t.same({ v1: doc.linux.cgroup.v1, v2: doc.linux.cgroup.v2 }, { v1: true, v2: true }, 'both cgroup managers, whatever the host runs');
});

// The policy as the kernel shows it for the program's mappings (numa_maps' policy column).
const SHOW_POLICY = ['sh', '-c', "awk 'NR==1 {print $2}' /proc/self/numa_maps"];

t.test('memoryPolicy: each mode reaches the program through set_mempolicy', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ mode: 'MPOL_BIND', nodes: '0' }, 'bind:0'],
    [{ mode: 'MPOL_PREFERRED', nodes: '0' }, 'prefer:0'],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'interleave=static:0'],
    [{ mode: 'MPOL_LOCAL' }, 'local'],
    [{ mode: 'MPOL_DEFAULT' }, 'default'],
  ];
  const rt = runtime(t);
  for (const [policy, shown] of cases) {
    const spec = baseSpec(SHOW_POLICY);
    spec.linux!.memoryPolicy = policy as never;
    const r = run(rt, makeBundle(t, spec));
    t.equal(r.status, 0, `${JSON.stringify(policy)}: ${r.stderr}`);
    t.equal(r.stdout.trim(), shown, `${policy.mode} shows as ${shown}`);
  }
});

t.test('memoryPolicy: exec\'d processes get it too', async (t) => {
  const rt = runtime(t);
  const spec = baseSpec(['sleep', '100']);
  spec.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
  const bundle = makeBundle(t, spec);
  const id = uniqueId('rs13');
  t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 0, 'create');
  const r = rt.call(['exec', id, ...SHOW_POLICY]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), 'bind:0');
  rt.call(['delete', '--force', id]);
});

t.test('memoryPolicy: bad values fail create and leave nothing', async (t) => {
  const rt = runtime(t);
  const withPolicy = (policy: Record<string, unknown>) => {
    const spec = baseSpec(['true']);
    spec.linux!.memoryPolicy = policy as never;
    return makeBundle(t, spec);
  };
  // Node 4000 exists on no machine this runs on: the kernel refuses it.
  assertCreateFails(t, rt, withPolicy({ mode: 'MPOL_BIND', nodes: '4000' }), /set_mempolicy \(linux\.memoryPolicy\): Invalid argument/);
  assertCreateFails(t, rt, withPolicy({ mode: 'MPOL_LOCAL', nodes: '0' }), /MPOL_LOCAL takes no nodes/);
  assertCreateFails(t, rt, withPolicy({ mode: 'MPOL_BIND' }), /MPOL_BIND needs at least one node/);
  assertCreateFails(t, rt, withPolicy({ mode: 'MPOL_BIND', nodes: '0-x' }), /"0-x" is not a node number or a range/);
  assertCreateFails(t, rt, withPolicy({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }), /exclude each other/);
  assertCreateFails(t, rt, withPolicy({ mode: 'MPOL_SOMETIMES' }), /\/linux\/memoryPolicy\/mode: must be equal to one of the allowed values/);
});

t.test('netDevices: the device moves in renamed, keeps its global addresses, is up, and dies with the container', async (t) => {
  const { a, b } = vethPair(t);
  const rt = runtime(t);
  const spec = baseSpec(['sleep', '100']);
  spec.linux!.netDevices = { [a]: { name: 'ctr0' } };
  const bundle = makeBundle(t, spec);
  const id = uniqueId('rs13');
  const created = rt.call(['create', '--bundle', bundle.dir, id]);
  t.equal(created.status, 0, created.stderr);
  t.notOk(hostHas(a), 'the device left the host');
  t.ok(hostHas(b), 'its peer stays on the host');
  const inside = rt.call(['exec', id, 'ip', 'addr', 'show', 'dev', 'ctr0']);
  t.equal(inside.status, 0, inside.stderr);
  t.match(inside.stdout, /ctr0@\S+: <[^>]*\bUP\b/, 'up in the container');
  t.match(inside.stdout, /inet 192\.0\.2\.13\/24 .*scope global ctr0/, 'with its IPv4 address');
  t.match(inside.stdout, /inet6 2001:db8::13\/64 scope global/, 'and its IPv6 address');
  const names = rt.call(['exec', id, 'ls', '/sys/class/net']);
  t.same(names.stdout.trim().split(/\s+/).sort(), ['ctr0', 'lo'], 'the container sees it under its new name only');
  t.equal(rt.call(['delete', '--force', id]).status, 0, 'delete');
  // A veth dies with its namespace, and its peer with it; a physical device would come home.
  t.notOk(hostHas(a), 'not moved back at delete (the spec forbids it); the virtual device is gone');
  // The kernel dismantles a dead network namespace in a work queue (cleanup_net), after the last
  // process is gone: the peer goes a moment later, not by the time delete returns.
  t.ok(await gone(b, 5000), 'and so is its peer, within 5 s');
});

t.test('netDevices: a %d template is completed by the kernel', async (t) => {
  const { a } = vethPair(t);
  const rt = runtime(t);
  const spec = baseSpec(['ls', '/sys/class/net']);
  spec.linux!.netDevices = { [a]: { name: 'net%d' } };
  const r = run(rt, makeBundle(t, spec));
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split(/\s+/).sort(), ['lo', 'net0']);
});

t.test('netDevices: bad entries fail create before anything moves', async (t) => {
  const { a } = vethPair(t);
  const rt = runtime(t);
  const withDevices = (netDevices: Record<string, { name?: string }>, network = true) => {
    const spec = baseSpec(['true']);
    spec.linux!.netDevices = netDevices;
    if (!network) spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'network');
    return makeBundle(t, spec);
  };
  assertCreateFails(t, rt, withDevices({ 'tsrunc-absent0': {} }), /there is no network device "tsrunc-absent0" on the host/);
  assertCreateFails(t, rt, withDevices({ [a]: { name: 'a/b' } }), /name for "\S+" in the container "a\/b" has a "\/"/);
  assertCreateFails(t, rt, withDevices({ [a]: { name: '..' } }), /"\.\." is not a name/);
  assertCreateFails(t, rt, withDevices({ [a]: { name: 'sixteen-bytes-xx' } }), /is longer than 15 bytes/);
  assertCreateFails(t, rt, withDevices({ [a]: { name: 'x0' }, lo: { name: 'x0' } }), /two devices would be named "x0"/);
  assertCreateFails(t, rt, withDevices({ [a]: {} }, false), /linux\.netDevices needs a network namespace/);
  t.ok(hostHas(a), 'the device never left the host');
  t.match(ip('addr', 'show', 'dev', a), /inet 192\.0\.2\.13\/24/, 'nor lost its address');
});

t.test('netDevices: a failure after a move moves the device back, named, addressed and up as it was', async (t) => {
  const first = vethPair(t);
  const second = vethPair(t);
  const rt = runtime(t);
  const spec = baseSpec(['true']);
  // The first moves; the second's name is the container's loopback: the spec requires an error.
  spec.linux!.netDevices = { [first.a]: { name: 'ctr0' }, [second.a]: { name: 'lo' } };
  assertCreateFails(t, rt, makeBundle(t, spec), /the container's network namespace already has a device named "lo"/);
  for (const name of [first.a, second.a]) {
    t.ok(hostHas(name), `${name} is on the host`);
    const shown = ip('addr', 'show', 'dev', name);
    t.match(shown, /inet 192\.0\.2\.13\/24/, `${name} has its IPv4 address`);
    t.match(shown, /inet6 2001:db8::13\/64/, `${name} has its IPv6 address`);
    t.match(shown, /<[^>]*\bUP\b/, `${name} is up`);
  }
});

t.test('netDevices: into a network namespace given by path', async (t) => {
  const { a } = vethPair(t);
  const netns = `tsrunc-rs13-${process.pid}`;
  ip('netns', 'add', netns);
  t.teardown(() => void ip('netns', 'del', netns));
  const rt = runtime(t);
  const spec = baseSpec(['true']);
  spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: `/run/netns/${netns}` } : ns));
  spec.linux!.netDevices = { [a]: { name: 'given0' } };
  const r = run(rt, makeBundle(t, spec));
  t.equal(r.status, 0, r.stderr);
  t.notOk(hostHas(a), 'the device left the host');
  t.match(ip('-n', netns, 'addr', 'show', 'dev', 'given0'), /inet 192\.0\.2\.13\/24/, 'it lives on in the given namespace, addressed, after the container');
});
