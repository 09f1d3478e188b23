// Configs and calls runc 1.1.5 accepts, and what it then does, side by side with runc on the same
// bundle: the cases its own integration suite and runtime-tools' validation found tsrunc refusing
// or doing differently.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import t, { type Test } from 'tap';
import type { LinuxNamespace, Spec } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, RUNC, runtime, TSRUNC, uniqueId, type Runtime } from '../src/harness.js';

const BOTH = [TSRUNC, RUNC];
const v1Devices = fs.existsSync('/sys/fs/cgroup/devices/devices.list');

/** The container's v1 devices.list, read on the host through its init's cgroup. */
function devicesList(pid: number): string {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1] === 'devices');
  if (!line) throw new Error(`process ${pid} has no devices cgroup`);
  return fs.readFileSync(`/sys/fs/cgroup/devices${line.split(':')[2]}/devices.list`, 'utf8');
}

/** `run --detach` of `spec` with each runtime; `check` sees the running container, which is then deleted. */
function eachRuntime(t: Test, spec: Spec, check: (rt: Runtime, id: string, pid: number) => void): void {
  const bundle = makeBundle(t, spec);
  for (const binary of BOTH) {
    const rt = runtime(t, binary);
    const id = uniqueId('parity');
    const run = rt.call(['run', '--detach', '--bundle', bundle.dir, id]);
    t.equal(run.status, 0, `${rt.name} run: ${run.stderr}`);
    if (run.status !== 0) continue;
    const state = JSON.parse(rt.call(['state', id]).stdout) as { pid: number };
    check(rt, id, state.pid);
    t.equal(rt.call(['delete', '--force', id]).status, 0, `${rt.name} delete`);
  }
}

/** What `sh -c script` prints in a container of `spec`, for each runtime. */
function shellOutput(t: Test, spec: Spec, script: string): Record<string, string> {
  const out: Record<string, string> = {};
  eachRuntime(t, spec, (rt, id) => {
    const r = rt.call(['exec', id, 'sh', '-c', script]);
    out[rt.name] = r.stdout + r.stderr;
  });
  return out;
}

t.test('a FIFO in linux.devices is created and needs no device cgroup rule', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.linux!.devices = [{ path: '/dev/myfifo', type: 'p', fileMode: 0o620, uid: 0, gid: 0 }];
  const out = shellOutput(t, spec, 'ls -l /dev/myfifo | cut -c1-10; test -p /dev/myfifo && echo fifo');
  t.equal(out['tsrunc'], 'prw--w----\nfifo\n', 'a named pipe with the mode asked for');
  t.equal(out['tsrunc'], out['runc'], 'as with runc');
});

t.test('linux.devices nodes are reachable only as linux.resources.devices allows', { skip: !v1Devices && 'no v1 devices controller' }, async (t) => {
  const spec = baseSpec(['sleep', '300']);
  // Deny-all (runc's default spec) and a node of linux.devices that no rule allows.
  spec.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11 }];
  const lists: Record<string, string> = {};
  const reads: Record<string, string> = {};
  eachRuntime(t, spec, (rt, id, pid) => {
    lists[rt.name] = devicesList(pid).split('\n').sort().join('\n');
    const r = rt.call(['exec', id, 'sh', '-c', 'head -c1 /dev/kmsg >/dev/null && echo readable || echo refused']);
    reads[rt.name] = r.stdout;
  });
  t.equal(reads['tsrunc'], 'refused\n', '/dev/kmsg exists but cannot be opened');
  t.notMatch(lists['tsrunc'], /c 1:11 /, 'devices.list has no rule for it');
  t.same(lists['tsrunc'], lists['runc'], 'devices.list is runc\'s, rule for rule');
  t.same(reads['tsrunc'], reads['runc']);
});

t.test('device rule access is read as a set of r, w and m, as runc reads it', { skip: !v1Devices && 'no v1 devices controller' }, async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11 }];
  spec.linux!.resources!.devices = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' },
    { allow: true, type: 'c', major: 10, minor: 229, access: 'mrwwr' },
    { allow: false, type: 'c', major: 10, minor: 229, access: 'mx' },
  ];
  const lists: Record<string, string> = {};
  eachRuntime(t, spec, (rt, _id, pid) => {
    lists[rt.name] = devicesList(pid).split('\n').sort().join('\n');
  });
  t.match(lists['tsrunc'], /^c 1:11 rw$/m, '"rwa" allows read and write');
  t.match(lists['tsrunc'], /^c 10:229 rw$/m, '"mrwwr" then a deny of "mx" leaves read and write');
  t.same(lists['tsrunc'], lists['runc'], 'devices.list is runc\'s');
});

t.test('--version prints runc\'s three lines: version, commit, spec', async (t) => {
  for (const binary of BOTH) {
    const rt = runtime(t, binary);
    const lines = rt.call(['--version']).stdout.split('\n');
    t.match(lines[0], /^t?s?runc version \d+\.\d+\.\d+/, `${rt.name}: version`);
    t.match(lines[1], /^commit: \S+/, `${rt.name}: commit`);
    t.match(lines[2], /^spec: \d+\.\d+\.\d+/, `${rt.name}: spec`);
  }
});

t.test('`spec` lists the namespaces runc lists, so a cgroup namespace can be added as runc\'s suite does', async (t) => {
  const listed: Record<string, LinuxNamespace['type'][]> = {};
  for (const binary of BOTH) {
    const rt = runtime(t, binary);
    const dir = fs.mkdtempSync(`${os.tmpdir()}/tsrunc-conf-spec-`);
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    t.equal(rt.call(['spec'], { cwd: dir }).status, 0, `${rt.name} spec`);
    const spec = JSON.parse(fs.readFileSync(`${dir}/config.json`, 'utf8')) as Spec;
    listed[rt.name] = spec.linux!.namespaces!.map((ns) => ns.type);
  }
  t.same(listed['tsrunc'], listed['runc'], `the same namespaces, in the same order: ${listed['tsrunc']}`);

  // delete.bats: `update_config '.linux.namespaces += [{"type": "cgroup"}]'` on the spec's output.
  const spec = baseSpec(['true']);
  spec.linux!.namespaces = [...listed['tsrunc']!.map((type) => ({ type })), { type: 'cgroup' }];
  const dup = spec.linux!.namespaces.filter((ns) => ns.type === 'cgroup').length;
  const bundle = makeBundle(t, spec);
  for (const binary of BOTH) {
    const rt = runtime(t, binary);
    const r = rt.call(['run', '--bundle', bundle.dir, uniqueId('ns')]);
    if (dup === 1) t.equal(r.status, 0, `${rt.name}: the added cgroup namespace is accepted: ${r.stderr}`);
    else t.not(r.status, 0, `${rt.name}: a cgroup namespace listed twice is refused (pure v2 host)`);
  }
});

t.test('exec --process without "user" runs as uid 0, gid 0, as runc does', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.process!.user = { uid: 1000, gid: 1000 };
  const outputs: Record<string, string> = {};
  eachRuntime(t, spec, (rt, id) => {
    const file = `${rt.root}/process.json`;
    fs.writeFileSync(file, JSON.stringify({ args: ['/bin/id'], cwd: '/' }));
    const r = rt.call(['exec', '--process', file, id]);
    t.equal(r.status, 0, `${rt.name} exec -p: ${r.stderr}`);
    outputs[rt.name] = r.stdout;
  });
  t.match(outputs['tsrunc'], /^uid=0\(root\) gid=0\(root\)/, 'root, not the container\'s user 1000');
  t.equal(outputs['tsrunc'], outputs['runc'], 'as with runc');
});

t.test('rootfsPropagation "shared" starts a container (its / shared), the host\'s mounts untouched', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.linux!.rootfsPropagation = 'shared';
  // The host's mounts at and above the temp dir, where the bundle is: the one holding the rootfs is among them.
  const above = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .filter((l) => { const mp = l.split(' ')[4]; return mp !== undefined && (mp === '/' || `${os.tmpdir()}/`.startsWith(`${mp}/`)); });
  const before = above();
  const roots: Record<string, string> = {};
  eachRuntime(t, spec, (rt, _id, pid) => {
    const root = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    roots[rt.name] = /shared:\d+/.test(root ?? '') ? 'shared' : 'not shared';
    t.same(above(), before, `${rt.name}: the host's mounts holding the bundle keep their propagation`);
  });
  // runc 1.1.5 runs it too but leaves the new / private (runtime-tools' linux_rootfs_propagation fails it).
  t.equal(roots['tsrunc'], 'shared', 'pivot_root worked and / is shared, as rootfsPropagation asks');
});

t.test('a read-only /dev tmpfs is made read-only after /dev/pts and the nodes are in it', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.mounts = spec.mounts!.map((m) => (m.destination === '/dev' ? { ...m, options: [...m.options!, 'ro'] } : m));
  const out = shellOutput(t, spec, 'grep "^tmpfs /dev " /proc/mounts | cut -d" " -f4 | cut -d, -f1; ls /dev/pts/ptmx /dev/null; touch /dev/x 2>&1 | grep -o "Read-only file system"');
  t.equal(out['tsrunc'], 'ro\n/dev/null\n/dev/pts/ptmx\nRead-only file system\n', '/dev is read-only and complete');
  t.equal(out['tsrunc'], out['runc'], 'as with runc');
});

/** A hook running `script` with the host's sh. */
const shHook = (script: string) => ({ path: '/bin/sh', args: ['sh', '-c', script] });

t.test('createContainer hooks run from the container\'s rootfs, as runc\'s do', async (t) => {
  const spec = baseSpec(['true']);
  spec.hooks = { createContainer: [shHook('touch ./made-by-hook')] };
  const bundle = makeBundle(t, spec);
  for (const binary of BOTH) {
    const rt = runtime(t, binary);
    fs.rmSync(`${bundle.rootfs}/made-by-hook`, { force: true });
    const r = rt.call(['run', '--bundle', bundle.dir, uniqueId('cc')]);
    t.equal(r.status, 0, `${rt.name} run: ${r.stderr}`);
    t.ok(fs.existsSync(`${bundle.rootfs}/made-by-hook`), `${rt.name}: ./made-by-hook landed in the rootfs`);
  }
});

// runc 1.1.5 runs poststart hooks inside `create` (fixed in runc 1.2), while its init is still
// runc:[2:INIT]: these follow the runtime-spec, which says after the program is started.
t.test('poststart hooks run once the program has been exec\'d', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  const seen = `${os.tmpdir()}/tsrunc-conf-poststart-${process.pid}`;
  t.teardown(() => fs.rmSync(seen, { force: true }));
  spec.hooks = {
    // Holds the init between its release and the exec, where a poststart run too early would look.
    startContainer: [{ path: '/bin/sleep', args: ['sleep', '1'] }],
    poststart: [shHook(`pid=$(sed -E 's/.*"pid": *([0-9]+).*/\\1/'); cat /proc/$pid/comm > ${seen}`)],
  };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId('ps');
  t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 0, 'create');
  t.notOk(fs.existsSync(seen), 'no poststart hook at create');
  t.equal(rt.call(['start', id]).status, 0, 'start');
  t.equal(fs.readFileSync(seen, 'utf8'), 'sleep\n', 'when it ran, the init was already the program');
});

t.test('a failed poststart hook fails start and stops the container (runtime-spec 1.3)', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.hooks = { poststart: [shHook('exit 3')] };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId('psf');
  t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 0, 'create');
  const start = rt.call(['start', id]);
  t.not(start.status, 0, 'start fails');
  t.match(start.stderr, /poststart hook #0 .*exit status 3/, 'naming the hook');
  t.match(rt.call(['state', id]).stdout, /"status": "stopped"/, 'the container is stopped');
});

/** Polls `state` until the container has stopped. */
function waitStopped(rt: Runtime, id: string): void {
  for (let i = 0; i < 200 && !/"status": "stopped"/.test(rt.call(['state', id]).stdout); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
}

t.test('a failed poststop hook is a warning: the next hooks run and delete succeeds', async (t) => {
  const spec = baseSpec(['true']);
  const log = `${os.tmpdir()}/tsrunc-conf-poststop-${process.pid}`;
  t.teardown(() => fs.rmSync(log, { force: true }));
  spec.hooks = { poststop: [shHook('exit 1'), shHook(`echo second >> ${log}`)] };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId('psw');
  t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0, 'run');
  waitStopped(rt, id);
  const del = rt.call(['delete', id]);
  t.equal(del.status, 0, `delete succeeds: ${del.stderr}`);
  t.match(del.stderr, /level=warning msg=".*poststop hook #0/, 'the failure is logged as a warning');
  t.equal(fs.readFileSync(log, 'utf8'), 'second\n', 'the hook after it ran');
  t.not(rt.call(['state', id]).status, 0, 'the container is gone');
});

/** Every cgroup directory named `name`, in every hierarchy mounted under /sys/fs/cgroup. */
function cgroupDirsNamed(name: string): string[] {
  const roots = ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`)];
  return roots.filter((root) => fs.existsSync(`${root}/cgroup.procs`)).flatMap((root) => {
    const found: string[] = [];
    const walk = (dir: string, depth: number): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        if (e.name === name) found.push(`${dir}/${e.name}`);
        else if (depth < 3) walk(`${dir}/${e.name}`, depth + 1);
      }
    };
    walk(root, 0);
    return found;
  });
}

t.test('a failed create leaves no cgroup in any hierarchy', async (t) => {
  const failures: [string, (s: Spec) => void][] = [
    ['the program is missing', (s) => { s.process!.args = ['/no/such/program']; }],
    ['a cgroup file refuses its value', (s) => { s.linux!.resources!.memory = { limit: 64 << 20, swap: 32 << 20 }; }],
    ['a prestart hook fails', (s) => { s.hooks = { prestart: [shHook('exit 1')] }; }],
  ];
  for (const [why, edit] of failures) {
    const spec = baseSpec(['true']);
    edit(spec);
    const bundle = makeBundle(t, spec);
    const rt = runtime(t);
    const id = uniqueId('fail');
    const create = rt.call(['create', '--bundle', bundle.dir, id]);
    t.not(create.status, 0, `${why}: create fails`);
    t.same(cgroupDirsNamed(id), [], `${why}: no cgroup directory is left`);
    t.not(rt.call(['state', id]).status, 0, `${why}: no container is left`);
  }
});

t.test('--debug logs the lifecycle at level debug, with the steps runc\'s debug.bats looks for', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId('dbg');
  for (const format of ['text', 'json']) {
    const log = `${bundle.dir}/log.${format}`;
    const quiet = rt.call(['--log', log, '--log-format', format, 'run', '--detach', '--bundle', bundle.dir, `${id}-quiet-${format}`]);
    t.equal(quiet.status, 0, 'run without --debug');
    t.notOk(fs.existsSync(log) && /debug/.test(fs.readFileSync(log, 'utf8')), `${format}: no debug lines without --debug`);
    const debug = rt.call(['--debug', '--log', log, '--log-format', format, 'run', '--detach', '--bundle', bundle.dir, `${id}-${format}`]);
    t.equal(debug.status, 0, `run --debug: ${debug.stderr}`);
    const exec = rt.call(['--debug', '--log', log, '--log-format', format, 'exec', `${id}-${format}`, 'true']);
    t.equal(exec.status, 0, 'exec --debug');
    const text = fs.readFileSync(log, 'utf8');
    t.match(text, format === 'json' ? /"level":"debug"/ : /level=debug/, `${format}: debug lines in the log file`);
    for (const step of ['nsexec container setup', 'child process in init()', 'init: closing the pipe to signal completion', 'setns_init: about to exec']) {
      t.ok(text.includes(step), `${format}: "${step}"`);
    }
    t.notMatch(debug.stderr + exec.stderr, /debug/, `${format}: nothing of it on stderr`);
  }
});

// Both build its rootfs in the host's mount namespace and chroot there; runc 1.1.5 leaves proc,
// sysfs and /dev mounted on the host after the container is gone, tsrunc takes them off
// (packages/runtime/test/host-mount-namespace has the rest).
t.test('a config without a mount namespace runs with both; only tsrunc leaves nothing mounted', async (t) => {
  const spec = baseSpec(['sh', '-c', 'readlink /proc/self/ns/mnt']);
  spec.linux!.namespaces = [];
  delete spec.hostname;
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
  const hostRoot = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === '/');
  const rootBefore = hostRoot();
  for (const binary of [TSRUNC, RUNC]) {
    const bundle = makeBundle(t, spec);
    const rt = runtime(t, binary);
    const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(bundle.rootfs));
    const run = rt.call(['run', '--bundle', bundle.dir, uniqueId('nomnt')]);
    t.equal(run.status, 0, `${rt.name} runs it: ${run.stderr}`);
    t.equal(run.stdout.trim(), fs.readlinkSync('/proc/self/ns/mnt'), `${rt.name}: in the host's mount namespace`);
    if (binary === TSRUNC) {
      t.same(mounted(), [], 'tsrunc: nothing left mounted below the rootfs');
    } else {
      t.ok(mounted().some((l) => l.includes(`${bundle.rootfs}/proc `)), 'runc: proc left mounted below the rootfs');
      spawnSync('umount', ['--lazy', bundle.rootfs]);
      t.same(mounted(), [], 'runc\'s leftovers unmounted by the test');
    }
    t.same(fs.readdirSync(rt.root), [], `${rt.name}: no state left`);
  }
  t.same(hostRoot(), rootBefore, 'the host\'s "/" is as it was');
});
