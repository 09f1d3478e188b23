// Faults during the lifecycle: a create SIGKILLed at any point, a resource the kernel refuses,
// deletes racing each other, a read-only --root. Whatever happened, `delete --force` exits 0
// and leaves no state dir, no cgroup directory in any hierarchy and no process.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { cgroupV2 } from '../src/cgroup-files.js';
import { baseSpec, makeBundle, RUNC, runtime, TSRUNC, uniqueId, type Runtime } from '../src/harness.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every directory `id` could have as a cgroup: in each v1 hierarchy, a hybrid cgroup2 mount, or pure v2. */
function cgroupDirsOf(id: string): string[] {
  const hierarchies = fs.readdirSync(CGROUP_ROOT).map((h) => path.join(CGROUP_ROOT, h));
  return [CGROUP_ROOT, ...hierarchies].map((h) => path.join(h, id)).filter((dir) => fs.existsSync(dir));
}

/**
 * Processes holding a file under `dir` open. Every stage of a container (the native stage, the
 * init, the executor waiting on the exec fifo) holds the fifo in the state dir, from before it
 * enters the cgroup until `start`: a process a killed create left behind shows up here.
 */
function processesHolding(dir: string): number[] {
  const holders: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    const holds = fds.some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${dir}/`);
      } catch {
        return false;
      }
    });
    if (holds) holders.push(Number(pid));
  }
  return holders;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs tsrunc with `rt`'s root; `killAfterMs` SIGKILLs it then. Resolves to its exit status or signal. */
function runAsync(rt: Runtime, args: string[], killAfterMs?: number): Promise<number | NodeJS.Signals> {
  const child = spawn(TSRUNC, ['--root', rt.root, ...args], { stdio: 'ignore' });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  if (killAfterMs !== undefined) void sleep(killAfterMs).then(() => child.kill('SIGKILL'));
  return exited;
}

/** What of `id` is on the host: entries in the state root, cgroup directories, processes. */
function leftovers(rt: Runtime, id: string): { root: string[]; cgroups: string[]; processes: number[] } {
  return { root: fs.readdirSync(rt.root), cgroups: cgroupDirsOf(id), processes: processesHolding(rt.root) };
}

const NOTHING = { root: [], cgroups: [], processes: [] };

t.test('create SIGKILLed at any point: delete --force removes all it left', async (t) => {
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '1000']));
  // One undisturbed create and delete measure the span the kills are spread over.
  const began = Date.now();
  const calibrate = uniqueId('kill');
  t.equal(await runAsync(rt, ['create', '--bundle', bundle.dir, calibrate]), 0, 'an undisturbed create succeeds');
  const span = (Date.now() - began) * 1.25;
  t.equal(rt.call(['delete', '--force', calibrate]).status, 0);

  const RUNS = 40;
  const seen = { none: 0, interrupted: 0, created: 0 };
  for (let run = 0; run < RUNS; run++) {
    const id = uniqueId('kill');
    const at = Math.round((span * run) / RUNS);
    await runAsync(rt, ['create', '--bundle', bundle.dir, id], at);
    const what = `killed after ${at} ms`;

    // An ID is either visible (state and list show it) or free (no state dir at all).
    const state = rt.call(['state', id]);
    const listed = (JSON.parse(rt.call(['list', '--format', 'json']).stdout || 'null') as { id: string }[] | null ?? []).some((c) => c.id === id);
    if (state.status === 0) {
      const status = (JSON.parse(state.stdout) as { status: string }).status;
      t.ok(listed, `${what}: list shows the container state shows`);
      t.ok(status === 'stopped' || status === 'created', `${what}: status ${status}`);
      if (status === 'stopped') seen.interrupted++;
      else seen.created++;
      const again = rt.call(['create', '--bundle', bundle.dir, id]);
      t.match(again.stderr, /already exists/, `${what}: the ID stays taken until deleted`);
    } else {
      t.notOk(listed, `${what}: not listed`);
      t.notOk(fs.existsSync(path.join(rt.root, id)), `${what}: no state dir when state says it does not exist`);
      seen.none++;
    }

    const deleted = rt.call(['delete', '--force', id]);
    t.equal(deleted.status, 0, `${what}: delete --force exits 0 ${deleted.stderr}`);
    t.same(leftovers(rt, id), NOTHING, `${what}: no state dir, cgroup or process left`);
  }
  t.comment(`kills before the claim: ${seen.none}, mid-create: ${seen.interrupted}, after: ${seen.created}`);
  t.ok(seen.interrupted > 0, 'some kills landed in the middle of a create');
});

t.test('a create in progress is shown as creating; killed there, delete --force removes it', async (t) => {
  const rt = runtime(t);
  const spec = baseSpec(['sleep', '1000']);
  const bundle = makeBundle(t, spec);
  // A createRuntime hook holds the create at a known point: the init exists, in its cgroup.
  const hookPid = path.join(bundle.dir, 'hook.pid');
  spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${hookPid}; exec sleep 60`] }] };
  bundle.writeConfig(spec);
  t.teardown(() => {
    try { process.kill(Number(fs.readFileSync(hookPid, 'utf8')), 'SIGKILL'); } catch { /* not started or gone */ }
  });
  const id = uniqueId('hold');
  const child = spawn(TSRUNC, ['--root', rt.root, 'create', '--bundle', bundle.dir, id], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 500 && !fs.existsSync(hookPid); i++) await sleep(10);
  t.ok(fs.existsSync(hookPid), 'the hook runs');

  const during = JSON.parse(rt.call(['state', id]).stdout) as { status: string; pid: number };
  t.equal(during.status, 'creating', 'state shows the container as creating');
  t.ok(during.pid > 0, 'with the pid of its init');
  t.match(rt.call(['list']).stdout, new RegExp(`^${id} .* creating `, 'm'), 'list shows it as creating');
  t.match(rt.call(['kill', id, 'KILL']).stderr, /still being created/, 'kill refuses it');
  t.ok(processesHolding(rt.root).length > 0, 'its init runs');

  child.kill('SIGKILL');
  await exited;
  t.equal(JSON.parse(rt.call(['state', id]).stdout).status, 'stopped', 'once its create is killed it is stopped');
  t.match(rt.call(['create', '--bundle', bundle.dir, id]).stderr, /already exists/, 'the ID stays taken');
  t.match(rt.call(['start', id]).stderr, /create was interrupted/, 'start refuses it, saying why');
  const deleted = rt.call(['delete', '--force', id]);
  t.equal(deleted.status, 0, `delete --force exits 0 ${deleted.stderr}`);
  t.same(leftovers(rt, id), NOTHING, 'no state dir, cgroup or process left');
});

/** A spec whose resources the kernel refuses only once the cgroup exists. */
const refusedResources: { name: string; error: RegExp; apply(spec: Spec): void }[] = [
  {
    // More CPUs than the machine has: the write to cpuset.cpus fails.
    name: `cpuset cpus "${os.cpus().length + 5}"`,
    error: /cpuset\.cpus/,
    apply: (spec) => { spec.linux!.resources = { cpu: { cpus: String(os.cpus().length + 5) } }; },
  },
  {
    name: 'a hugetlb limit of a page size the kernel does not have',
    error: /hugetlb/,
    apply: (spec) => { spec.linux!.resources = { hugepageLimits: [{ pageSize: '3MB', limit: 1 << 22 }] }; },
  },
];

for (const c of refusedResources) {
  t.test(`create with ${c.name} fails and leaves no cgroup`, async (t) => {
    const rt = runtime(t);
    const spec = baseSpec(['sleep', '1000']);
    c.apply(spec);
    const bundle = makeBundle(t, spec);
    const id = uniqueId('res');
    const r = rt.call(['create', '--bundle', bundle.dir, id]);
    t.equal(r.status, 1, 'create fails');
    t.match(r.stderr, c.error, `the error names the refused resource: ${r.stderr.trim()}`);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.same(leftovers(rt, id), NOTHING, 'no state dir, cgroup or process left');
    t.equal(rt.call(['delete', '--force', id]).status, 0, 'delete --force of the never-created ID exits 0');
  });
}

t.test('a cgroup hierarchy that is read-only: create names it, and undoes the cgroups it made', async (t) => {
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '1000']));
  const id = uniqueId('rocg');
  // In a mount namespace of its own, so that only this create sees the hierarchy read-only; on
  // v1 the last one tsrunc makes, so that the others exist when it fails.
  const readOnly = cgroupV2 ? CGROUP_ROOT : path.join(CGROUP_ROOT, 'pids');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -o remount,bind,ro ${readOnly} && exec "$0" "$@"`,
    TSRUNC, '--root', rt.root, 'create', '--bundle', bundle.dir, id], { encoding: 'utf8' });
  t.equal(r.status, 1, 'create fails');
  t.match(r.stderr, `mkdir ${path.join(readOnly, id)}: read-only file system`, 'naming the directory and the cause');
  t.same(leftovers(rt, id), NOTHING, 'no state dir, cgroup or process left');
});

t.test('50 pairs of racing delete --force all exit 0', async (t) => {
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '1000']));
  const failures: string[] = [];
  for (let pair = 0; pair < 50; pair++) {
    const id = uniqueId('race');
    const created = rt.call(['create', '--bundle', bundle.dir, id]);
    if (created.status !== 0) throw new Error(`create ${id}: ${created.stderr}`);
    const codes = await Promise.all([runAsync(rt, ['delete', '--force', id]), runAsync(rt, ['delete', '--force', id])]);
    if (codes.some((c) => c !== 0)) failures.push(`${id}: ${codes.join(', ')}`);
    if (fs.existsSync(path.join(rt.root, id)) || cgroupDirsOf(id).length > 0) failures.push(`${id}: left behind`);
  }
  t.same(failures, [], 'every delete exited 0 and nothing was left');
  t.same(processesHolding(rt.root), [], 'no container process left');
});

t.test('a read-only --root is reported as such, naming the path, as runc does', async (t) => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-ro-'));
  t.teardown(() => fs.rmSync(mnt, { recursive: true, force: true }));
  t.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', mnt]).status, 0, 'mount tmpfs');
  fs.mkdirSync(path.join(mnt, 'existing'));
  t.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0, 'remount it read-only');
  t.teardown(() => { spawnSync('umount', [mnt]); });
  const bundle = makeBundle(t, baseSpec(['true']));
  const id = uniqueId('ro');
  // A root that cannot be made, and one that exists but where the state dir cannot be.
  for (const [root, failing] of [[path.join(mnt, 'a', 'b'), path.join(mnt, 'a')], [path.join(mnt, 'existing'), path.join(mnt, 'existing', id)]] as const) {
    for (const binary of [TSRUNC, RUNC]) {
      const r = spawnSync(binary, ['--root', root, 'create', '--bundle', bundle.dir, id], { encoding: 'utf8' });
      t.equal(r.status, 1, `${path.basename(binary)} --root ${root}: exit 1`);
      t.match(r.stderr, `mkdir ${failing}: read-only file system`, `${path.basename(binary)}: names ${failing} and the cause`);
    }
  }
  t.same(cgroupDirsOf(id), [], 'no cgroup made');
});

/** A tmpfs of `kib` KiB and 4096 inodes at a new temp dir, unmounted in teardown; `fill` leaves it no
 * free byte and, with `inodes`, no free inode either (a directory needs only the latter). */
function smallTmpfs(t: Test, kib: number): { dir: string; fill(inodes: boolean): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,nr_inodes=4096`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`mount tmpfs: ${mounted.stderr}`);
  t.teardown(() => {
    spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const fill = (inodes: boolean) => {
    // dd stops at ENOSPC: no block is left; then empty files until no inode is left.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4k']);
    if (!inodes) return;
    fs.mkdirSync(path.join(dir, 'inodes'));
    for (let i = 0; ; i++) {
      try {
        fs.writeFileSync(path.join(dir, 'inodes', String(i)), '');
      } catch {
        return;
      }
    }
  };
  return { dir, fill };
}

const mountedUnder = (dir: string) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.split(' ')[4]?.startsWith(`${dir}/`));

t.test('a full disk under the state root fails create by name and leaves nothing', async (t) => {
  const disk = smallTmpfs(t, 64);
  const root = path.join(disk.dir, 'state');
  fs.mkdirSync(root);
  disk.fill(false);
  const bundle = makeBundle(t, baseSpec(['true']));
  const id = uniqueId('full');
  const r = spawnSync(TSRUNC, ['--root', root, 'run', '--bundle', bundle.dir, id], { encoding: 'utf8' });
  t.not(r.status, 0, 'run fails');
  t.match(r.stderr, new RegExp(`write ${root}/${id}\\S*/state.json: no space left on device`), `the error names the file and the cause: ${r.stderr.trim()}`);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.same(fs.readdirSync(root), [], 'no state dir or temporary dir is left');
  t.same(cgroupDirsOf(id), [], 'no cgroup is left');
});

t.test('a full disk under the rootfs fails create by name and leaves nothing', async (t) => {
  const disk = smallTmpfs(t, 8192);
  const spec = baseSpec(['true']);
  spec.mounts!.push({ destination: '/new-mount-point', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
  const bundle = makeBundle(t, spec);
  // The bundle's rootfs, moved onto the small disk, which is then filled.
  const rootfs = path.join(disk.dir, 'rootfs');
  const copy = spawnSync('cp', ['-a', bundle.rootfs, rootfs], { encoding: 'utf8' });
  t.equal(copy.status, 0, `the rootfs fits: ${copy.stderr}`);
  spec.root!.path = rootfs;
  bundle.writeConfig(spec);
  disk.fill(true);
  const rt = runtime(t);
  const id = uniqueId('fullfs');
  const r = rt.call(['run', '--bundle', bundle.dir, id]);
  t.not(r.status, 0, 'run fails');
  t.match(r.stderr, /new-mount-point.*no space left on device|no space left on device.*new-mount-point/i, `the error names the mount point and the cause: ${r.stderr.trim()}`);
  t.same(fs.readdirSync(rt.root), [], 'no state dir is left');
  t.same(cgroupDirsOf(id), [], 'no cgroup is left');
  t.same(mountedUnder(rootfs), [], 'nothing is left mounted in the rootfs');
  t.notOk(fs.existsSync(path.join(rootfs, 'new-mount-point')), 'no mount point was made');
});
