// tsrunc checkpoint and restore through the CLI, on real containers, as root: runc's argument
// checks and words (help, an unknown or not running container, --parent-path absolute or missing,
// bad flags, a restore without images or of an existing ID), each leaving the container and the
// host as they were; then, where criu can dump on this kernel (`criu check`), a round trip: a
// container counting into a bind-mounted directory is checkpointed (it stops and is deleted) and
// restored (it counts on from where it was, with its bind mount, in its cgroup).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { TSRUNC_BINARY } from '../src/client.js';
import { Criu } from '../src/container/criu.js';
import { defaultSpec } from '../src/container/spec-template.js';
import { acceptConnection, listenUnixSocket, recvFd } from '../src/console/index.js';
import { check, libc } from '../src/sys/libc.js';
import { O } from '../src/sys/openat2.js';
import { makeBusyboxRootfs } from '../src/testing/busybox-rootfs.js';

type Test = Pick<typeof t, 'teardown'>;

/** runc's default config without a terminal, running `script`. */
function spec(script: string): Spec {
  const s = defaultSpec(false);
  s.process!.terminal = false;
  s.process!.args = ['sh', '-c', script];
  s.root!.readonly = false;
  return s;
}

/** A bundle in a temporary directory (removed at the test's end); `dir` is also the tests' cwd. */
function makeBundle(t: Test, config: Spec): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cr-'));
  fs.chmodSync(dir, 0o755);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'rootfs'));
  makeBusyboxRootfs(path.join(dir, 'rootfs'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

interface Tsrunc {
  root: string;
  /** A call that exits before its container does: output through files, which the container may hold. */
  call(args: string[], cwd: string): SpawnSyncReturns<string>;
  /** A call whose container gets pipes for its stdio (criu dumps and restores pipes, not host files). */
  callWithPipes(args: string[], cwd: string): Promise<number | null>;
}

/** tsrunc over a state root of the test's own; the teardown force-deletes what is left. */
function tsrunc(t: Test): Tsrunc {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cr-root-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cr-out-'));
  let calls = 0;
  const pipeEnds: number[] = [];
  const call: Tsrunc['call'] = (args, cwd) => {
    const files = ['stdout', 'stderr'].map((name) => path.join(out, `${++calls}.${name}`));
    const fds = files.map((file) => fs.openSync(file, 'w'));
    try {
      const r = spawnSync(TSRUNC_BINARY, ['--root', root, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', fds[0]!, fds[1]!], timeout: 60_000 });
      return { ...r, stdout: fs.readFileSync(files[0]!, 'utf8'), stderr: fs.readFileSync(files[1]!, 'utf8') };
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  };
  const callWithPipes: Tsrunc['callWithPipes'] = (args, cwd) => {
    // Real pipes: Node's own 'pipe' stdio are socketpairs, which criu takes for external unix sockets.
    const [stdin, stdout, stderr] = [pipe(), pipe(), pipe()];
    const child = spawn(TSRUNC_BINARY, ['--root', root, ...args], { cwd, stdio: [stdin[0], stdout[1], stderr[1]] });
    for (const fd of [stdin[0], stdout[1], stderr[1]]) fs.closeSync(fd);
    // Ours stay open while the container may use the other ends.
    pipeEnds.push(stdin[1], stdout[0], stderr[0]);
    return new Promise((resolve) => child.once('exit', (code) => {
      const said = drain(stderr[0]).trim();
      if (said !== '') console.log(`# tsrunc ${args.join(' ')}: ${said}`);
      resolve(code);
    }));
  };
  t.teardown(() => {
    for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) call(['delete', '--force', id], '/');
    for (const fd of pipeEnds) fs.closeSync(fd);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  });
  return { root, call, callWithPipes };
}

const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
const O_NONBLOCK = 0o4000;
const F_SETFL = 4;

/** [read end, write end]; non-blocking, so that what a call wrote can be read while a container holds the pipe. */
function pipe(): [number, number] {
  const fds = [0, 0];
  check(pipe2(fds, O_NONBLOCK | O.CLOEXEC) as number, 'pipe2');
  return [fds[0]!, fds[1]!];
}

/** What is in the pipe now. */
function drain(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    try {
      const n = fs.readSync(fd, buffer);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    } catch {
      break; // EAGAIN: nothing more for now
    }
  }
  return Buffer.concat(chunks).toString();
}

const status = (rt: Tsrunc, id: string, cwd: string): string | undefined => {
  const r = rt.call(['state', id], cwd);
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string }).status : undefined;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('help: the second line names the command, as runc\'s does', async (t) => {
  const rt = tsrunc(t);
  for (const command of ['checkpoint', 'restore']) {
    const r = rt.call([command, '-h'], '/');
    t.equal(r.status, 0, `${command} -h exits 0`);
    t.match(r.stdout.split('\n')[1], new RegExp(`tsrunc ${command} - `), `${command} -h`);
  }
});

t.test('argument checks in runc\'s words, each leaving the container and the host as they were', async (t) => {
  const dir = makeBundle(t, spec('sleep 300'));
  const rt = tsrunc(t);
  const id = 'cr-args';
  const images = path.join(dir, 'image-dir');

  let r = rt.call(['checkpoint', '--image-path', images, 'no-such'], dir);
  t.equal(r.status, 1, 'an unknown container: exit 1');
  t.match(r.stderr, /container does not exist/);
  t.notOk(fs.existsSync(images), 'and no image directory');

  t.equal(rt.call(['create', id], dir).status, 0, 'create');
  r = rt.call(['checkpoint', '--image-path', images, id], dir);
  t.equal(r.status, 1, 'a created container: exit 1');
  t.match(r.stderr, /Container cannot be checkpointed in created state/);
  t.notOk(fs.existsSync(images), 'and no image directory');
  t.equal(status(rt, id, dir), 'created', 'the container is still created');

  t.equal(rt.call(['start', id], dir).status, 0, 'start');
  r = rt.call(['checkpoint', '--parent-path', path.join(dir, 'parent-dir'), '--work-path', './work-dir', '--image-path', './image-dir', id], dir);
  t.equal(r.status, 1, 'an absolute --parent-path: exit 1');
  t.match(r.stderr, /--parent-path must be relative/, 'named in the error');
  r = rt.call(['checkpoint', '--parent-path', './parent-dir', '--work-path', './work-dir', '--image-path', './image-dir', id], dir);
  t.equal(r.status, 1, 'a --parent-path that is not there: exit 1');
  t.match(r.stderr, /invalid --parent-path: stat image-dir\/parent-dir: no such file or directory/, 'named in the error');
  fs.writeFileSync(path.join(images, 'a-file'), '');
  r = rt.call(['checkpoint', '--parent-path', 'a-file', '--image-path', images, id], dir);
  t.match(r.stderr, /invalid --parent-path: .*not a directory/, 'a --parent-path that is a file');
  for (const [flags, words] of [
    [['--manage-cgroups-mode', 'loose'], /Invalid manage cgroups mode/],
    [['--page-server', 'nohost'], /Use --page-server ADDRESS:PORT to specify page server/],
    [['--page-server', 'host:port'], /Invalid port number/],
    // The log line quotes the message, so its own quotes come escaped, as runc's do.
    [['--empty-ns', 'pid'], /namespace \\"pid\\" is not supported/],
  ] as const) {
    r = rt.call(['checkpoint', ...flags, '--image-path', images, id], dir);
    t.equal(r.status, 1, `${flags.join(' ')}: exit 1`);
    t.match(r.stderr, words, `${flags.join(' ')}: in runc's words`);
  }
  t.equal(status(rt, id, dir), 'running', 'the container still runs after every refusal');
  t.same(fs.readdirSync(images), ['a-file'], 'and nothing was written to the image directory');
  t.notOk(fs.existsSync(path.join(dir, 'work-dir')), 'nor a work directory made');

  r = rt.call(['restore', '--image-path', images, id], dir);
  t.equal(r.status, 1, 'a restore over an existing ID: exit 1');
  t.equal(status(rt, id, dir), 'running', 'which is left running');
});

t.test('a restore that cannot be done leaves no state, cgroup, mount or directory behind', async (t) => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cr-data-'));
  t.teardown(() => fs.rmSync(data, { recursive: true, force: true }));
  const config = spec('sleep 300');
  config.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
  const dir = makeBundle(t, config);
  const rt = tsrunc(t);
  // Other tests may mount meanwhile: only the restore's own mounts (criu's root, the rootfs' binds) are looked for.
  const ownMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('tsrunc-criu-root-') || l.includes(dir));
  const criuRoots = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('tsrunc-criu-root-'));
  const leftovers = (id: string) => {
    t.same(fs.readdirSync(rt.root), [], 'no state dir');
    t.notOk(['memory', 'pids', ''].some((c) => fs.existsSync(path.join('/sys/fs/cgroup', c, id))), 'no cgroup');
    t.same(ownMounts(), [], 'no mount');
    t.same(criuRoots(), [], 'no directory for criu\'s root');
  };

  let r = rt.call(['restore', '--image-path', path.join(dir, 'empty'), 'cr-none'], dir);
  t.equal(r.status, 1, 'no images: exit 1');
  t.match(r.stderr, /open .*empty\/descriptors\.json: no such file or directory/, 'the missing file is named');
  t.equal(r.stderr.trim().split('\n').length, 1, 'in one line');
  leftovers('cr-none');

  // criu fails after the cgroup, criu's root and the bind of /data were made: all are undone.
  fs.mkdirSync(path.join(dir, 'no-dump'));
  fs.writeFileSync(path.join(dir, 'no-dump/descriptors.json'), JSON.stringify(['/dev/null', '/dev/null', '/dev/null']));
  r = rt.call(['restore', '--image-path', './no-dump', '--work-path', './work', 'cr-fail'], dir);
  t.equal(r.status, 1, 'images without a dump: exit 1');
  t.match(r.stderr, /criu failed: type RESTORE errno \d+; log file: work\/restore\.log/, 'criu\'s failure, naming its log');
  t.ok(fs.existsSync(path.join(dir, 'work/restore.log')), 'which is there');
  leftovers('cr-fail');
  t.same(fs.readdirSync(data), [], 'the bind source is untouched');

  const tty = spec('sleep 300');
  tty.process!.terminal = true;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(tty));
  r = rt.call(['restore', '--image-path', './no-dump', 'cr-tty'], dir);
  t.equal(r.status, 1, 'a container with a terminal and no console socket: exit 1');
  t.match(r.stderr, /cannot allocate tty if runc will detach without setting console socket/, 'in runc\'s words');
  leftovers('cr-tty');
});

const criuUnusable = Criu.unusableReason();
if (criuUnusable) console.log(`# criu cannot checkpoint on this kernel (criu check: ${criuUnusable}): the dump tests are skipped`);

t.test('checkpoint and restore: a counting container counts on where it stopped', { skip: criuUnusable ? `criu check: ${criuUnusable}` : false }, async (t) => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cr-data-'));
  t.teardown(() => fs.rmSync(data, { recursive: true, force: true }));
  const config = spec('i=0; while :; do i=$((i+1)); echo $i > /data/count; sleep 0.1; done');
  config.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
  const dir = makeBundle(t, config);
  const rt = tsrunc(t);
  const id = 'cr-count';
  const count = (): number => Number(fs.readFileSync(path.join(data, 'count'), 'utf8').trim() || '0');

  t.equal(await rt.callWithPipes(['run', '-d', id], dir), 0, 'run -d');
  for (let i = 0; i < 100 && (!fs.existsSync(path.join(data, 'count')) || count() < 5); i++) await sleep(100);
  t.ok(count() >= 5, `it counts (${count()})`);

  // --leave-running: dumped, and still counting.
  let r = rt.call(['checkpoint', '--leave-running', '--image-path', './pre', '--work-path', './work', id], dir);
  t.equal(r.status, 0, `checkpoint --leave-running: ${r.stderr}`);
  t.equal(status(rt, id, dir), 'running', 'still running');

  r = rt.call(['checkpoint', '--image-path', './image-dir', '--work-path', './work', id], dir);
  t.equal(r.status, 0, `checkpoint: ${r.stderr}${r.status !== 0 ? fs.readFileSync(path.join(dir, 'work/dump.log'), 'utf8').split('\n').filter((l) => /Error/.test(l)).join('\n') : ''}`);
  t.equal(status(rt, id, dir), undefined, 'the container is gone, as runc leaves it');
  const stopped = count();
  await sleep(1000);
  t.equal(count(), stopped, `nothing counts any more (${stopped})`);
  t.ok(fs.existsSync(path.join(dir, 'image-dir/inventory.img')), 'criu wrote its images');

  t.equal(await rt.callWithPipes(['restore', '-d', '--image-path', './image-dir', '--work-path', './work', id], dir), 0, 'restore -d');
  t.equal(status(rt, id, dir), 'running', 'running again');
  for (let i = 0; i < 100 && count() <= stopped + 3; i++) await sleep(100);
  const after = count();
  t.ok(after > stopped + 3, `it counts on from ${stopped} (now ${after}), not from 1`);
  const pid = (JSON.parse(rt.call(['state', id], dir).stdout) as { pid: number }).pid;
  const cgroupLine = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  t.match(cgroupLine, new RegExp(`/${id}\\n`), 'the restored init is in the container\'s cgroup');
  t.equal(rt.call(['kill', id, 'KILL'], dir).status, 0, 'kill');
  for (let i = 0; i < 50 && status(rt, id, dir) !== 'stopped'; i++) await sleep(100);
  t.equal(status(rt, id, dir), 'stopped', 'stopped');
  t.equal(rt.call(['delete', id], dir).status, 0, 'delete');
  t.same(fs.readdirSync(rt.root), [], 'no state left');
});

t.test('a foreground restore waits for the restored init, exits with its status and deletes the container', { skip: criuUnusable ? `criu check: ${criuUnusable}` : false }, async (t) => {
  const dir = makeBundle(t, spec('i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.1; done'));
  const rt = tsrunc(t);
  const id = 'cr-fg';
  const count = (): number => Number(fs.readFileSync(path.join(dir, 'rootfs/count'), 'utf8').trim() || '0');
  t.equal(await rt.callWithPipes(['run', '-d', id], dir), 0, 'run -d');
  for (let i = 0; i < 100 && (!fs.existsSync(path.join(dir, 'rootfs/count')) || count() < 3); i++) await sleep(100);
  const r = rt.call(['checkpoint', '--image-path', './image-dir', id], dir);
  t.equal(r.status, 0, `checkpoint: ${r.stderr}`);
  const stopped = count();

  const restored = rt.callWithPipes(['restore', '--image-path', './image-dir', id], dir);
  for (let i = 0; i < 100 && status(rt, id, dir) !== 'running'; i++) await sleep(100);
  t.equal(status(rt, id, dir), 'running', 'restored');
  for (let i = 0; i < 100 && count() <= stopped + 3; i++) await sleep(100);
  t.ok(count() > stopped + 3, `it counts on from ${stopped}`);
  t.equal(rt.call(['kill', id, 'KILL'], dir).status, 0, 'kill');
  t.equal(await restored, 137, 'restore exits with the init\'s status (SIGKILL)');
  t.equal(status(rt, id, dir), undefined, 'and the container is deleted');
});

t.test('a container with a terminal: its pty master comes back over --console-socket on restore, and the shell answers on it', { skip: criuUnusable ? `criu check: ${criuUnusable}` : false }, async (t) => {
  const config = spec('while read line; do echo "got $line"; done');
  config.process!.terminal = true;
  // The hooks of the runtime's namespace record the state they get, at create and at restore.
  const hooksOut = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cr-hooks-'));
  t.teardown(() => fs.rmSync(hooksOut, { recursive: true, force: true }));
  config.hooks = Object.fromEntries(['prestart', 'createRuntime'].map((phase) => [phase, [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${hooksOut}/${phase}.json`] }]]));
  const hookPid = (phase: string): number | undefined => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(hooksOut, `${phase}.json`), 'utf8')) as { pid: number }).pid;
    } catch {
      return undefined;
    }
  };
  const dir = makeBundle(t, config);
  const rt = tsrunc(t);
  const id = 'cr-tty';
  const socketPath = path.join(dir, 'console.sock');
  const listenFd = listenUnixSocket(socketPath);
  t.teardown(() => fs.closeSync(listenFd));
  /** The master the last call sent; kept open (closing it would hang the terminal up) until the test ends. */
  const receiveMaster = (): number => {
    const connection = acceptConnection(listenFd);
    const { fd } = recvFd(connection);
    fs.closeSync(connection);
    t.teardown(() => fs.closeSync(fd));
    check(fcntl(fd, F_SETFL, O_NONBLOCK) as number, 'fcntl');
    return fd;
  };
  /** Writes a line to the terminal and waits up to 10 s for the shell's answer. */
  const answer = async (master: number, line: string): Promise<string> => {
    fs.writeSync(master, `${line}\n`);
    let said = '';
    for (let i = 0; i < 100 && !said.includes(`got ${line}`); i++) {
      await sleep(100);
      said += drain(master);
    }
    return said;
  };

  let r = rt.call(['run', '-d', '--console-socket', socketPath, id], dir);
  t.equal(r.status, 0, `run -d --console-socket: ${r.stderr}`);
  t.ok(hookPid('prestart') !== undefined && hookPid('createRuntime') !== undefined, 'the hooks ran at create');
  t.match(await answer(receiveMaster(), 'before'), /got before/, 'the shell answers on its terminal');

  r = rt.call(['checkpoint', '--image-path', './image-dir', '--work-path', './work', id], dir);
  t.equal(r.status, 0, `checkpoint: ${r.stderr}`);
  t.equal(status(rt, id, dir), undefined, 'the container is gone');

  for (const phase of ['prestart', 'createRuntime']) fs.rmSync(path.join(hooksOut, `${phase}.json`));

  r = rt.call(['restore', '-d', '--image-path', './image-dir', '--work-path', './work', '--console-socket', socketPath, id], dir);
  t.equal(r.status, 0, `restore -d --console-socket: ${r.stderr}`);
  t.equal(status(rt, id, dir), 'running', 'running again');
  const pid = (JSON.parse(rt.call(['state', id], dir).stdout) as { pid: number }).pid;
  for (const phase of ['prestart', 'createRuntime']) t.equal(hookPid(phase), pid, `the ${phase} hook ran at restore, given the restored init's pid`);
  t.match(await answer(receiveMaster(), 'after'), /got after/, 'the restored shell answers on the master restore sent');
  t.equal(rt.call(['delete', '--force', id], dir).status, 0, 'delete --force');
  t.same(fs.readdirSync(rt.root), [], 'no state left');
});
