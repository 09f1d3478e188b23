// A container without a mount namespace of its own (an unlisted namespace is the runtime's, as the
// runtime-tools' linux_ns_itype test asks), run as runc runs it: its mounts are made in the host's
// mount namespace below the rootfs and it is chroot'ed there. Unlike runc, tsrunc's delete and a
// failed or killed create leave nothing of it mounted on the host, and the host's "/" keeps its
// propagation. Real containers through the CLI, as root.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { TSRUNC_BINARY } from '../src/client.js';
import { defaultSpec } from '../src/container/spec-template.js';
import { readMountinfo } from '../src/sys/mountinfo.js';
import { makeBusyboxRootfs } from '../src/testing/busybox-rootfs.js';

type Teardown = Pick<typeof t, 'teardown'>;
type Asserts = Pick<typeof t, 'equal' | 'not' | 'match' | 'same'>;

interface Bundle {
  dir: string;
  rootfs: string;
}

/** runc's default config without a mount namespace (and without the paths that need one), running `script`. */
function hostMountSpec(script: string): Spec {
  const spec = defaultSpec(false);
  spec.process!.terminal = false;
  spec.process!.args = ['sh', '-c', script];
  spec.root!.readonly = false;
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
  return spec;
}

function makeBundle(t: Teardown, spec: Spec): Bundle {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hostmnt-'));
  fs.chmodSync(dir, 0o755);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs);
  makeBusyboxRootfs(rootfs);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, rootfs };
}

interface Tsrunc {
  root: string;
  call(args: string[]): SpawnSyncReturns<string>;
}

/**
 * tsrunc with a state root of the test's own; output through files, since a created container's
 * init inherits them and would hold a pipe open. The teardown force-deletes what is left.
 */
function tsrunc(t: Teardown): Tsrunc {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hostmnt-root-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hostmnt-out-'));
  let calls = 0;
  const call = (args: string[]): SpawnSyncReturns<string> => {
    const files = ['stdout', 'stderr'].map((name) => path.join(out, `${++calls}.${name}`));
    const fds = files.map((file) => fs.openSync(file, 'w'));
    try {
      const r = spawnSync(TSRUNC_BINARY, ['--root', root, ...args], { encoding: 'utf8', stdio: ['ignore', fds[0]!, fds[1]!], timeout: 30_000 });
      return { ...r, stdout: fs.readFileSync(files[0]!, 'utf8'), stderr: fs.readFileSync(files[1]!, 'utf8') };
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  };
  t.teardown(() => {
    for (const id of fs.readdirSync(root)) call(['delete', '--force', id]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  });
  return { root, call };
}

/** The host's mount points at or below `dir`. */
function mountedUnder(dir: string): string[] {
  return readMountinfo().map((m) => m.mountpoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** The host's "/" as mountinfo shows it, propagation included (its ID and options). */
function hostRoot(): string {
  return JSON.stringify(readMountinfo().filter((m) => m.mountpoint === '/'));
}

function waitStopped(rt: Tsrunc, id: string): string {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = (JSON.parse(rt.call(['state', id]).stdout) as { status: string }).status;
    if (status === 'stopped' || Date.now() > deadline) return status;
    spawnSync('sleep', ['0.1']);
  }
}

let counter = 0;
const uniqueId = (): string => `hostmnt-${process.pid}-${++counter}`;

/** `create` fails with one line matching `error`, leaving no state, nothing mounted below the rootfs. */
function assertCreateFails(t: Asserts, rt: Tsrunc, bundle: Bundle, error: RegExp): void {
  const id = uniqueId();
  const r = rt.call(['create', '--bundle', bundle.dir, id]);
  t.not(r.status, 0, 'create exits non-zero');
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line of error: ${r.stderr}`);
  t.match(lines[0], error, 'naming the problem');
  t.same(fs.readdirSync(rt.root), [], 'no state left');
  t.same(mountedUnder(bundle.rootfs), [], 'nothing left mounted below the rootfs');
}

t.test('runs in the host\'s mount namespace, chroot\'ed, and delete unmounts all it mounted there', async (t) => {
  const script = [
    'readlink /proc/self/ns/mnt > /out',
    // The mount points as the container sees them, below its root.
    "awk '{ print $5 }' /proc/self/mountinfo >> /out",
    'test -c /dev/null && echo dev-null >> /out',
    'test -e /config.json || echo no-bundle >> /out',
  ].join('; ');
  const bundle = makeBundle(t, hostMountSpec(script));
  const rt = tsrunc(t);
  const id = uniqueId();
  const rootBefore = hostRoot();
  const create = rt.call(['create', '--bundle', bundle.dir, id]);
  t.equal(create.status, 0, `create: ${create.stderr}`);
  const mounted = mountedUnder(bundle.rootfs);
  for (const dir of ['', '/proc', '/dev', '/dev/pts', '/dev/shm', '/sys']) {
    t.ok(mounted.includes(bundle.rootfs + dir), `the host sees rootfs${dir || '/'} mounted`);
  }
  t.equal(hostRoot(), rootBefore, 'the host\'s "/" keeps its propagation');
  t.equal(rt.call(['start', id]).status, 0, 'start');
  t.equal(waitStopped(rt, id), 'stopped', 'the process ran to its end');
  const seen = fs.readFileSync(path.join(bundle.rootfs, 'out'), 'utf8').split('\n');
  t.equal(seen[0], fs.readlinkSync('/proc/self/ns/mnt'), 'its mount namespace is the host\'s');
  for (const dir of ['/', '/proc', '/dev', '/dev/pts', '/sys']) t.ok(seen.includes(dir), `it sees ${dir} mounted, at its own path`);
  t.ok(seen.includes('dev-null') && seen.includes('no-bundle'), 'its "/" is the rootfs, with devices made');
  const del = rt.call(['delete', id]);
  t.equal(del.status, 0, `delete: ${del.stderr}`);
  t.same(mountedUnder(bundle.rootfs), [], 'after delete the host has nothing mounted below the rootfs');
  t.equal(hostRoot(), rootBefore, 'and its "/" is as it was');
});

// runc makes the mount holding the rootfs private (and "/" a recursive slave) first; tsrunc leaves
// the host's propagation alone: the rootfs' own bind still reaches the holder's peers (a mount on a
// shared mount always does), but nothing below it does, and delete takes the peers' copies off too.
t.test('a rootfs on a shared mount: its mounts do not propagate to the peer, delete leaves none there', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hostmnt-shared-'));
  const [shared, peer] = [path.join(base, 'shared'), path.join(base, 'peer')];
  for (const dir of [shared, peer]) fs.mkdirSync(dir);
  t.teardown(() => {
    for (const dir of [peer, shared]) spawnSync('umount', ['--lazy', dir]);
    fs.rmSync(base, { recursive: true, force: true });
  });
  const sh = (cmd: string) => t.equal(spawnSync('sh', ['-c', cmd]).status, 0, cmd);
  sh(`mount -t tmpfs tmpfs ${shared} && mount --make-shared ${shared} && mount --bind ${shared} ${peer}`);
  const bundleDir = path.join(shared, 'bundle');
  fs.mkdirSync(path.join(bundleDir, 'rootfs'), { recursive: true });
  makeBusyboxRootfs(path.join(bundleDir, 'rootfs'));
  fs.writeFileSync(path.join(bundleDir, 'config.json'), JSON.stringify(hostMountSpec('true')));
  const propagation = () => JSON.stringify(readMountinfo().filter((m) => m.mountpoint === shared || m.mountpoint === peer));
  const before = propagation();
  const rt = tsrunc(t);
  const id = uniqueId();
  const create = rt.call(['create', '--bundle', bundleDir, id]);
  t.equal(create.status, 0, `create: ${create.stderr}`);
  t.ok(mountedUnder(`${bundleDir}/rootfs`).includes(`${bundleDir}/rootfs/proc`), 'proc is mounted below the rootfs');
  t.same(mountedUnder(`${peer}/bundle/rootfs`), [`${peer}/bundle/rootfs`], 'the peer got the rootfs\' bind alone, nothing below it');
  t.equal(propagation(), before, 'the shared mount and its peer keep their propagation');
  t.equal(rt.call(['delete', '--force', id]).status, 0, 'delete');
  t.same(mountedUnder(`${bundleDir}/rootfs`), [], 'nothing left below the rootfs');
  t.same(mountedUnder(`${peer}/bundle`), [], 'nor at the peer');
});

t.test('root.readonly and a read-only tmpfs hold without a mount namespace (runc skips them there)', async (t) => {
  const probe = (p: string) => `touch ${p} 2>/dev/null && echo ${p} writable || echo ${p} read-only`;
  const spec = hostMountSpec(`${probe('/probe')}; ${probe('/ro-tmpfs/probe')}; ${probe('/dev/shm/probe')}`);
  spec.root!.readonly = true;
  spec.mounts!.push({ destination: '/ro-tmpfs', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'size=1m'] });
  const bundle = makeBundle(t, spec);
  fs.mkdirSync(path.join(bundle.rootfs, 'ro-tmpfs'));
  const rt = tsrunc(t);
  const r = rt.call(['run', '--bundle', bundle.dir, uniqueId()]);
  t.equal(r.status, 0, `run: ${r.stderr}`);
  t.equal(r.stdout, '/probe read-only\n/ro-tmpfs/probe read-only\n/dev/shm/probe writable\n', 'the rootfs and the "ro" tmpfs are read-only inside, a writable tmpfs is not');
  t.notOk(fs.existsSync(path.join(bundle.rootfs, 'probe')), 'nothing was written to it');
  t.same(mountedUnder(bundle.rootfs), [], 'run deleted it: nothing mounted below the rootfs');
});

t.test('a create that fails after mounting leaves nothing mounted', async (t) => {
  const spec = hostMountSpec('true');
  // Last, so that proc, /dev and sysfs are already mounted when it fails.
  spec.mounts!.push({ destination: '/missing', type: 'bind', source: '/nonexistent-tsrunc-source', options: ['bind'] });
  const bundle = makeBundle(t, spec);
  assertCreateFails(t, tsrunc(t), bundle, /bind source \/nonexistent-tsrunc-source does not exist/);
});

t.test('a create killed with its mounts made: delete --force unmounts them', async (t) => {
  const spec = hostMountSpec('true');
  // createRuntime hooks run in tsrunc's process tree once the mounts are made: this one kills create.
  spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'kill -9 $PPID'] }] };
  const bundle = makeBundle(t, spec);
  const rt = tsrunc(t);
  const id = uniqueId();
  const create = rt.call(['create', '--bundle', bundle.dir, id]);
  t.equal(create.signal, 'SIGKILL', 'create was killed');
  t.ok(mountedUnder(bundle.rootfs).includes(`${bundle.rootfs}/proc`), 'with proc mounted below the rootfs');
  const del = rt.call(['delete', '--force', id]);
  t.equal(del.status, 0, `delete --force: ${del.stderr}`);
  t.same(mountedUnder(bundle.rootfs), [], 'nothing left mounted below the rootfs');
  t.same(fs.readdirSync(rt.root), [], 'nor any state');
});

t.test('what needs a mount namespace of its own is refused, in runc\'s words', async (t) => {
  const masked = hostMountSpec('true');
  masked.linux!.maskedPaths = ['/proc/kcore'];
  assertCreateFails(t, tsrunc(t), makeBundle(t, masked), /msg="unable to restrict sys entries without a private MNT namespace"$/);
  const readonly = hostMountSpec('true');
  readonly.linux!.readonlyPaths = ['/proc/sys'];
  assertCreateFails(t, tsrunc(t), makeBundle(t, readonly), /msg="unable to restrict sys entries without a private MNT namespace"$/);
  const rootBefore = hostRoot();
  const propagation = hostMountSpec('true');
  propagation.linux!.rootfsPropagation = 'shared';
  assertCreateFails(t, tsrunc(t), makeBundle(t, propagation), /msg="rootfsPropagation \\"shared\\" needs a private mount namespace/);
  t.equal(hostRoot(), rootBefore, 'the host\'s "/" keeps its propagation');
});

// The attack: the image's symlinks point outside the rootfs, and config.json mounts through them.
// In the host's mount namespace, a mount that followed one would cover a host directory.
t.test('mount targets through rootfs symlinks that point outside land inside the rootfs', async (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hostmnt-target-'));
  t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
  const marker = path.join(host, 'marker');
  fs.writeFileSync(marker, 'host marker\n', { mode: 0o600 });
  const mtime = new Date('2020-01-02T03:04:05Z');
  fs.utimesSync(marker, mtime, mtime);
  const hostDirMtime = fs.statSync(host).mtimeMs;

  const spec = hostMountSpec('echo written > /abs/tmpfs/file');
  spec.mounts!.push(
    { destination: '/abs/tmpfs', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    { destination: '/rel', type: 'bind', source: '/etc', options: ['bind', 'ro'] },
  );
  const bundle = makeBundle(t, spec);
  // An absolute link, a relative one climbing out, and /dev itself, where devices are made; the
  // image has the directories they lead to inside the rootfs, so that create goes through.
  const inRoot = path.join(bundle.rootfs, host);
  for (const dir of ['rel', 'dev']) fs.mkdirSync(`${inRoot}/${dir}`, { recursive: true });
  fs.symlinkSync(host, path.join(bundle.rootfs, 'abs'));
  fs.symlinkSync(`${'../'.repeat(12)}${host.slice(1)}/rel`, path.join(bundle.rootfs, 'rel'));
  fs.rmSync(path.join(bundle.rootfs, 'dev'), { recursive: true, force: true });
  fs.symlinkSync(`${host}/dev`, path.join(bundle.rootfs, 'dev'));

  const rt = tsrunc(t);
  const id = uniqueId();
  const create = rt.call(['create', '--bundle', bundle.dir, id]);
  t.equal(create.status, 0, `create: ${create.stderr}`);
  t.equal(rt.call(['start', id]).status, 0, 'start');
  t.equal(waitStopped(rt, id), 'stopped', 'the process ran to its end');
  t.ok(mountedUnder(bundle.rootfs).includes(`${inRoot}/tmpfs`), 'the tmpfs landed below the rootfs, where the link leads inside it');
  t.ok(mountedUnder(bundle.rootfs).includes(`${inRoot}/rel`), 'so did the bind');
  t.ok(mountedUnder(bundle.rootfs).includes(`${inRoot}/dev/pts`), 'so did /dev and its devpts');
  t.ok(fs.statSync(`${inRoot}/dev/null`).isCharacterDevice(), 'and /dev\'s nodes');
  t.equal(fs.readFileSync(`${inRoot}/tmpfs/file`, 'utf8'), 'written\n', 'the container wrote through the link inside its rootfs');

  t.equal(fs.readFileSync(marker, 'utf8'), 'host marker\n', 'the host marker keeps its content');
  t.equal(fs.statSync(marker).mode & 0o7777, 0o600, 'and its mode');
  t.equal(fs.statSync(marker).mtimeMs, mtime.getTime(), 'and its mtime');
  t.same(fs.readdirSync(host), ['marker'], 'nothing appeared beside it (no device node, no mount point)');
  t.equal(fs.statSync(host).mtimeMs, hostDirMtime, 'its directory is unchanged');
  t.same(mountedUnder(host), [], 'nothing is mounted on the host directory');

  t.equal(rt.call(['delete', id]).status, 0, 'delete');
  t.same(mountedUnder(bundle.rootfs), [], 'after delete nothing is mounted below the rootfs');
});
