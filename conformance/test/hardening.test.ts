// Attacks on create through config.json and the image, each performed as described, with runc
// (1.1.5, the oracle) beside tsrunc where it has the same rule: the host stays untouched (a marker
// file outside the rootfs keeps its content, mode and mtime and has nothing mounted on it), and
// create fails cleanly (non-zero exit, one line of error, no state dir, no process left).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { consoleSocket, receiveMaster } from '../src/console-socket.js';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId, type Bundle, type Runtime, type Teardown } from '../src/harness.js';

type Asserts = Pick<typeof t, 'equal' | 'not' | 'notOk' | 'match' | 'same'>;

interface Marker {
  path: string;
  /** Fails the test if the marker changed or has a mount on it. */
  assertUntouched(t: Asserts): void;
}

/** A file on the host, outside every rootfs, with a known content, mode and mtime. */
function makeMarker(t: Teardown): Marker {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-marker-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'marker');
  fs.writeFileSync(file, 'host marker\n', { mode: 0o600 });
  const mtime = new Date('2020-01-02T03:04:05Z');
  fs.utimesSync(file, mtime, mtime);
  return {
    path: file,
    assertUntouched(t) {
      const stat = fs.statSync(file);
      t.equal(fs.readFileSync(file, 'utf8'), 'host marker\n', 'the host marker keeps its content');
      t.equal(stat.mode & 0o7777, 0o600, 'and its mode');
      t.equal(stat.mtimeMs, mtime.getTime(), 'and its mtime');
      t.same(fs.readdirSync(dir), ['marker'], 'nothing appeared beside it');
      const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
      t.same(mounted, [], 'nothing is mounted on it in the host\'s mount namespace');
    },
  };
}

function processesWithArg(arg: string): number {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(arg); } catch { return false; }
  }).length;
}

/** `create` must fail with one line matching `error`, and leave neither state nor process. */
function assertCreateFails(t: Asserts, rt: Runtime, bundle: Bundle, error: RegExp, extraArgs: string[] = []): void {
  const id = uniqueId('hard');
  const r = rt.call(['create', '--bundle', bundle.dir, ...extraArgs, id]);
  t.not(r.status, 0, `${rt.name} create exits non-zero`);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, `${rt.name}: one line of error: ${r.stderr}`);
  t.match(lines[0], error, `${rt.name} names the problem`);
  t.notOk(fs.existsSync(path.join(rt.root, id)), `${rt.name} leaves no state dir`);
  t.equal(processesWithArg(bundle.dir), 0, `${rt.name} leaves no process`);
}

function bundleWith(t: Teardown, edit: (spec: Spec) => void, args = ['true']): Bundle {
  const spec = baseSpec(args);
  edit(spec);
  return makeBundle(t, spec);
}

function bindMount(source: string, destination: string): NonNullable<Spec['mounts']>[number] {
  return { destination, type: 'bind', source, options: ['bind'] };
}

t.test('exec writes nothing through a /proc the container laid a filesystem over', async (t) => {
  // A process that may mount in the container (here: CAP_SYS_ADMIN) puts a tmpfs over /proc with a
  // self/oom_score_adj linked elsewhere: exec's privileged write of oom_score_adj (or of an LSM
  // label) would land in the link's target, which could be a file of the kernel's such as
  // /proc/sys/kernel/core_pattern (the CVE-2025-52881 class). Here it is a file of the rootfs.
  const spec = baseSpec(['sh', '-c', [
    'exec >/dev/null 2>&1 </dev/null',
    'echo untouched > /target',
    'mount -t tmpfs none /proc && mkdir /proc/self && ln -s /target /proc/self/oom_score_adj',
    'touch /ready', 'exec sleep 300'].join('; ')]);
  const caps = spec.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_ADMIN'];
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId('procfs');
  const run = rt.call(['run', '--detach', '--bundle', bundle.dir, id]);
  t.equal(run.status, 0, `run --detach: ${run.stderr}`);
  const ready = path.join(bundle.rootfs, 'ready');
  for (let i = 0; i < 200 && !fs.existsSync(ready); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  t.ok(fs.existsSync(ready), 'the container laid its tmpfs over /proc');
  const processFile = path.join(bundle.dir, 'process.json');
  fs.writeFileSync(processFile, JSON.stringify({ args: ['true'], cwd: '/', oomScoreAdj: 500 }));
  const exec = rt.call(['exec', '--process', processFile, id]);
  t.not(exec.status, 0, 'exec fails');
  t.match(exec.stderr, /\/proc is not a proc filesystem/, `naming the reason: ${exec.stderr.trim()}`);
  t.equal(fs.readFileSync(path.join(bundle.rootfs, 'target'), 'utf8'), 'untouched\n', 'nothing was written through the link');
});

t.test('mount destinations inside /proc', async (t) => {
  await t.test('a host file bound over /proc/sys/kernel/hostname is refused', async (t) => {
    const marker = makeMarker(t);
    const bundle = bundleWith(t, (s) => { s.mounts!.push(bindMount(marker.path, '/proc/sys/kernel/hostname')); });
    assertCreateFails(t, runtime(t), bundle, /mount on \/proc\/sys\/kernel\/hostname: a destination inside \/proc is refused/);
    assertCreateFails(t, runtime(t, RUNC), bundle, /cannot be mounted because it is inside \/proc/);
    marker.assertUntouched(t);
  });

  await t.test('a destination that the image\'s symlink leads into /proc/self is refused', async (t) => {
    // /etc/hosts -> /proc/self/oom_score_adj: before the fix the host file was bound there and
    // took the write of process.oomScoreAdj.
    const marker = makeMarker(t);
    const bundle = bundleWith(t, (s) => {
      s.process!.oomScoreAdj = 500;
      s.mounts!.push(bindMount(marker.path, '/etc/hosts'));
    });
    fs.rmSync(path.join(bundle.rootfs, 'etc/hosts'), { force: true });
    fs.mkdirSync(path.join(bundle.rootfs, 'etc'), { recursive: true });
    fs.symlinkSync('/proc/self/oom_score_adj', path.join(bundle.rootfs, 'etc/hosts'));
    assertCreateFails(t, runtime(t), bundle, /mount on \/etc\/hosts \(through a symlink in the rootfs, at \/proc\/self\/oom_score_adj\): a destination inside \/proc is refused/);
    assertCreateFails(t, runtime(t, RUNC), bundle, /cannot be mounted because it is inside \/proc/);
    marker.assertUntouched(t);
  });

  await t.test('a tmpfs on /proc itself is refused', async (t) => {
    const bundle = bundleWith(t, (s) => {
      s.mounts = s.mounts!.filter((m) => m.destination !== '/proc');
      s.mounts.push({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' });
    });
    assertCreateFails(t, runtime(t), bundle, /mount on \/proc: only a proc filesystem may be mounted on \/proc/);
    // runc 1.1.5 mounts it, and fails later, where it needs the /proc that is not there.
    assertCreateFails(t, runtime(t, RUNC), bundle, /open \/proc\/self\/fd: no such file or directory/);
  });

  await t.test('lxcfs-style binds over /proc/uptime are still allowed, as by runc', async (t) => {
    const marker = makeMarker(t);
    const bundle = bundleWith(t, (s) => { s.mounts!.push({ ...bindMount(marker.path, '/proc/uptime'), options: ['bind', 'ro'] }); }, ['cat', '/proc/uptime']);
    for (const rt of [runtime(t), runtime(t, RUNC)]) {
      const r = rt.call(['run', '--bundle', bundle.dir, uniqueId()]);
      t.equal(r.status, 0, `${rt.name} run: ${r.stderr}`);
      t.equal(r.stdout, 'host marker\n', `${rt.name}: the container reads the bound file`);
    }
    marker.assertUntouched(t);
  });
});

t.test('a proc mount point that is a symlink in the image is refused', async (t) => {
  // In the rootfs /proc -> the marker's directory on the host: proc must land on the image's own
  // directory or nowhere.
  const marker = makeMarker(t);
  const bundle = bundleWith(t, () => {});
  fs.rmSync(path.join(bundle.rootfs, 'proc'), { recursive: true, force: true });
  fs.symlinkSync(path.dirname(marker.path), path.join(bundle.rootfs, 'proc'));
  assertCreateFails(t, runtime(t), bundle, /mount proc on \/proc: the rootfs has a symlink there \(to \/tmp\/tsrunc-conf-marker-\w+\); proc is mounted only on an ordinary directory/);
  assertCreateFails(t, runtime(t, RUNC), bundle, /must be mounted on ordinary directory/);
  marker.assertUntouched(t);
  t.ok(fs.lstatSync(path.join(bundle.rootfs, 'proc')).isSymbolicLink(), 'the image\'s symlink is left as it was');
});

t.test('a rootfs that is a symlink is refused', async (t) => {
  const bundle = bundleWith(t, () => {});
  const real = path.join(bundle.dir, 'real-rootfs');
  fs.renameSync(bundle.rootfs, real);
  fs.symlinkSync(real, bundle.rootfs);
  assertCreateFails(t, runtime(t), bundle, /rootfs \(.*\/rootfs\) is a symlink or lies under one; give its real path/);
  assertCreateFails(t, runtime(t, RUNC), bundle, /invalid rootfs: not an absolute path, or a symlink/);
});

t.test('NUL in a string of config.json is an error naming the field', async (t) => {
  const cases: [string, (s: Spec) => void, RegExp][] = [
    ['process.env', (s) => { s.process!.env!.push('FOO=a\0b'); }, /config\.json: process\.env\[2\] contains a NUL byte/],
    ['process.args', (s) => { s.process!.args = ['echo', 'a\0b']; }, /config\.json: process\.args\[1\] contains a NUL byte/],
    ['hostname', (s) => { s.hostname = 'box\0evil'; }, /config\.json: hostname contains a NUL byte/],
    ['a mount destination', (s) => { s.mounts!.push({ destination: '/mnt\0/x', type: 'tmpfs', source: 'tmpfs' }); }, /config\.json: mounts\[\d+\]\.destination contains a NUL byte/],
  ];
  for (const [name, edit, error] of cases) {
    await t.test(name, async (t) => assertCreateFails(t, runtime(t), bundleWith(t, edit), error));
  }
  // runc refuses the environment at exec: the oracle for one of them.
  assertCreateFails(t, runtime(t, RUNC), bundleWith(t, cases[0]![1]), /environment variable value can't contain null/);
});

/** config.json with `depth` nested arrays under an extension field the schema lets through. */
function nestedBundle(t: Teardown, depth: number): Bundle {
  const bundle = bundleWith(t, () => {});
  const spec = fs.readFileSync(path.join(bundle.dir, 'config.json'), 'utf8');
  const nested = '['.repeat(depth) + ']'.repeat(depth);
  fs.writeFileSync(path.join(bundle.dir, 'config.json'), spec.replace(/^\{/, `{"org.example.nested": ${nested},`));
  return bundle;
}

t.test('deeply nested config.json gets a one-line error, not a stack overflow', async (t) => {
  const deep = nestedBundle(t, 1_000_000);
  assertCreateFails(t, runtime(t), deep, /^.*config\.json: nesting deeper than 10000"?$/);
  assertCreateFails(t, runtime(t, RUNC), deep, /exceeded max depth/);
  // One level less than the limit (the document's own object is the first) is an ordinary config.
  const fine = nestedBundle(t, 9999);
  for (const rt of [runtime(t), runtime(t, RUNC)]) {
    const r = rt.call(['run', '--bundle', fine.dir, uniqueId()]);
    t.equal(r.status, 0, `${rt.name} runs a config nested 10000 deep: ${r.stderr}`);
  }
});

/** Milliseconds of `create`; the container is deleted after. */
function timedCreate(rt: Runtime, bundle: Bundle): number {
  const id = uniqueId('big');
  const start = process.hrtime.bigint();
  const r = rt.call(['create', '--bundle', bundle.dir, id], { timeoutMs: 300_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  rt.call(['delete', '--force', id]);
  if (r.status !== 0) throw new Error(`${rt.name} create: ${r.stderr}`);
  return ms;
}

t.test('a 16 MB config.json is read in linear time, and arrives whole', async (t) => {
  // 16 MB of annotations are read, validated and recorded in the state; the environment variable
  // travels to the container's process in its plan, across several of the socket's buffers, with
  // its 3-byte characters cut across them.
  const wide = '€'.repeat(40_000);
  const bundle = bundleWith(t, (s) => {
    s.process!.env!.push(`WIDE=${wide}`);
    s.annotations = {};
    const value = 'é'.repeat(500);
    for (let i = 0; i < 16 * 1024; i++) s.annotations[`org.example.a${i}`] = value;
  }, ['sh', '-c', 'printf %s "$WIDE" | md5sum']);
  t.ok(fs.statSync(path.join(bundle.dir, 'config.json')).size > 16 * 1024 * 1024, 'config.json is over 16 MB');
  const rt = runtime(t);
  const theirs = timedCreate(runtime(t, RUNC), bundle);
  const ours = timedCreate(rt, bundle);
  // Before the sync channel was linear this took ~57 s against runc's ~2 s.
  t.ok(ours < 2 * theirs + 3000, `create: tsrunc ${ours.toFixed(0)} ms, runc ${theirs.toFixed(0)} ms`);
  const r = rt.call(['run', '--bundle', bundle.dir, uniqueId()], { timeoutMs: 300_000 });
  t.equal(r.status, 0, `run: ${r.stderr}`);
  const expected = createHash('md5').update(wide, 'utf8').digest('hex');
  t.equal(r.stdout.split(/\s+/)[0], expected, 'the variable arrived intact');
});

function waitStopped(rt: Runtime, id: string): void {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = rt.call(['state', id]);
    if (r.status === 0 && JSON.parse(r.stdout).status === 'stopped') return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  throw new Error(`${rt.name}: ${id} did not stop`);
}

t.test('/dev/console of a terminal container', async (t) => {
  const variants: [string, (s: Spec) => void][] = [
    ['', () => {}],
    // open_tree and move_mount, which bind it, by the mapped root.
    [' in a user namespace', (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.mounts = s.mounts!.filter((m) => m.type !== 'cgroup' && m.type !== 'sysfs' && m.type !== 'mqueue');
    }],
  ];
  for (const [variant, edit] of variants) await t.test(`is the pty, bound there as by runc${variant}`, async (t) => {
    const { socketPath, listenFd } = consoleSocket(t);
    const bundle = bundleWith(t, (s) => {
      s.process!.terminal = true;
      edit(s);
    }, ['sh', '-c', '[ /dev/console -ef "$(tty)" ] && echo same || echo different']);
    for (const rt of [runtime(t), runtime(t, RUNC)]) {
      const id = uniqueId();
      const created = rt.call(['create', '--bundle', bundle.dir, '--console-socket', socketPath, id]);
      t.equal(created.status, 0, `${rt.name} create: ${created.stderr}`);
      const { masterFd } = receiveMaster(t, listenFd);
      t.equal(rt.call(['start', id]).status, 0, `${rt.name} start`);
      waitStopped(rt, id);
      const output = Buffer.alloc(64);
      const n = fs.readSync(masterFd, output, 0, output.length, null);
      t.equal(output.toString('utf8', 0, n).trim(), 'same', `${rt.name}: /dev/console and the process' tty are one file`);
    }
  });

  await t.test('an image\'s /dev/console symlink to a host file is refused', async (t) => {
    // Without a pid namespace /proc/1/root is the host's "/": followed, the pty would be bound
    // over the host's file (the CVE-2025-52565 class).
    const marker = makeMarker(t);
    const { socketPath } = consoleSocket(t);
    const bundle = bundleWith(t, (s) => {
      s.process!.terminal = true;
      s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
      s.mounts = s.mounts!.filter((m) => m.destination !== '/dev');
    });
    fs.mkdirSync(path.join(bundle.rootfs, 'dev'), { recursive: true });
    fs.symlinkSync(`/proc/1/root${marker.path}`, path.join(bundle.rootfs, 'dev/console'));
    assertCreateFails(t, runtime(t), bundle, /\/dev\/console in the rootfs is a symlink: the console is not mounted there/, ['--console-socket', socketPath]);
    marker.assertUntouched(t);
  });

  await t.test('an image\'s /dev/null symlink is never bound over a masked path', async (t) => {
    // maskedPaths binds /dev/null over files: were the container's /dev/null a link to a host
    // file (through /proc/1/root, no pid namespace), that file would be bound there, writable
    // (the CVE-2025-31133 class). Without a /dev tmpfs the image's /dev is the container's.
    const marker = makeMarker(t);
    const bundle = bundleWith(t, (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
      s.mounts = s.mounts!.filter((m) => m.destination !== '/dev');
      s.linux!.maskedPaths = ['/etc/hostname'];
    });
    fs.mkdirSync(path.join(bundle.rootfs, 'dev'), { recursive: true });
    fs.rmSync(path.join(bundle.rootfs, 'dev/null'), { force: true });
    fs.symlinkSync(`/proc/1/root${marker.path}`, path.join(bundle.rootfs, 'dev/null'));
    fs.writeFileSync(path.join(bundle.rootfs, 'etc/hostname'), 'box\n');
    assertCreateFails(t, runtime(t), bundle, /mask \/etc\/hostname: \/dev\/null in the container is not the null device/);
    marker.assertUntouched(t);
  });
});

t.test('a .env, a bunfig.toml or BUN_OPTIONS does not reach tsrunc, under each engine', async (t) => {
  // containerd runs the runtime in the bundle directory. Bun reads .env and bunfig.toml from its
  // working directory (a compiled program unless built not to, the bun command unless told not
  // to): whoever writes the bundle would set tsrunc's environment (here: a TSRUNC_KILL_WITH_PARENT
  // that `run` would refuse) and preload code into a process that runs as root. BUN_OPTIONS, which
  // even the single binary reads, is the caller's NODE_OPTIONS: the launcher drops both.
  const bundle = bundleWith(t, () => {}, ['echo', 'container ran']);
  const marker = path.join(bundle.dir, 'preloaded');
  fs.writeFileSync(path.join(bundle.dir, '.env'), 'TSRUNC_KILL_WITH_PARENT=not-a-pid\n');
  fs.writeFileSync(path.join(bundle.dir, 'preload.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  fs.writeFileSync(path.join(bundle.dir, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
  const saved = { engine: process.env.TSRUNC_ENGINE, options: process.env.BUN_OPTIONS };
  t.teardown(() => {
    for (const [name, value] of [['TSRUNC_ENGINE', saved.engine], ['BUN_OPTIONS', saved.options]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  process.env.BUN_OPTIONS = `--preload ${path.join(bundle.dir, 'preload.js')}`;
  for (const engine of ['binary', 'bun', 'node']) {
    process.env.TSRUNC_ENGINE = engine;
    const rt = runtime(t);
    const version = rt.call(['--version'], { cwd: bundle.dir });
    t.equal(version.status, 0, `${engine}: --version: ${version.stderr}`);
    t.match(version.stdout, /^tsrunc version /, `${engine}: the CLI ran as the CLI`);
    const run = rt.call(['run', uniqueId('dotenv')], { cwd: bundle.dir });
    t.equal(run.status, 0, `${engine}: run from the bundle directory: ${run.stderr}`);
    t.equal(run.stdout, 'container ran\n', `${engine}: the container ran`);
    t.notOk(fs.existsSync(marker), `${engine}: no preload ran (bunfig.toml, BUN_OPTIONS)`);
  }
});
