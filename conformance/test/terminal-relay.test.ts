// A foreground terminal without --console-socket (`run`, `exec -t`): as runc, tsrunc receives the
// pty master itself and relays it to its own stdio. Each test gives the runtime a real pty as the
// caller's terminal (its stdin) and files as stdout/stderr, and drives it as a user would: keys
// written to the pty's master, a resize, signals to the runtime.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPty, type Pty } from '@tsrunc/runtime/testing';
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, TSRUNC, uniqueId, type Runtime, type Teardown } from '../src/harness.js';

interface Foreground {
  pty: Pty;
  /** What the runtime wrote to stdout so far. */
  output(): string;
  stderr(): string;
  /** Resolves with the output once it matches. */
  waitFor(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  pid: number;
}

/** The caller's terminal settings, as `stty -g` prints them. */
function terminalMode(pty: Pty): string {
  const r = spawnSync('stty', ['-g'], { stdio: [pty.slaveFd, 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stty -g: ${r.stderr}`);
  return r.stdout.trim();
}

/** `binary` (whose state root `rt` has) called with `args`, its stdin a pty of the given size, as a user's shell starts it. */
function foreground(t: Teardown, rt: Runtime, binary: string, args: string[], size?: { height: number; width: number }): Foreground {
  const pty = createPty(size);
  t.teardown(() => {
    fs.closeSync(pty.masterFd);
    fs.closeSync(pty.slaveFd);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-relay-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [outFile, errFile] = [path.join(dir, 'stdout'), path.join(dir, 'stderr')];
  const [outFd, errFd] = [fs.openSync(outFile, 'w'), fs.openSync(errFile, 'w')];
  const child = spawn(binary, ['--root', rt.root, ...args], { stdio: [pty.slaveFd, outFd, errFd] });
  fs.closeSync(outFd);
  fs.closeSync(errFd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })));
  // A test that fails half-way leaves no runtime behind (its container goes with the runtime's teardown).
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const output = () => fs.readFileSync(outFile, 'utf8');
  return {
    pty,
    output,
    stderr: () => fs.readFileSync(errFile, 'utf8'),
    async waitFor(pattern) {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
        const text = output();
        if (pattern.test(text)) return text;
      }
      throw new Error(`timed out waiting for ${pattern}; output so far: ${JSON.stringify(output())}`);
    },
    exited,
    pid: child.pid!,
  };
}

function terminalBundle(t: Teardown, args: string[], consoleSize?: { height: number; width: number }) {
  const spec = baseSpec(args);
  spec.process!.terminal = true;
  if (consoleSize) spec.process!.consoleSize = consoleSize;
  return makeBundle(t, spec);
}

/**
 * What the caller's terminal got, as this test reads it. runc turns the pty's ONLCR off only once
 * the program runs, so under load the program's first lines may reach the caller as "\r\n": that
 * race is runc's, and only runc's output is read through it (tsrunc sets the mode before `start`).
 */
function relayed(binary: string, output: string): string {
  return binary === RUNC ? output.replace(/\r\n/g, '\n') : output;
}

t.test('run relays the output unchanged and exits with the container\'s code, as runc', async (t) => {
  const bundle = terminalBundle(t, ['sh', '-c', 'echo Hello World; exit 3']);
  for (const binary of [TSRUNC, RUNC]) {
    const rt = runtime(t, binary);
    const run = foreground(t, rt, binary, ['run', '--bundle', bundle.dir, uniqueId()]);
    const { code } = await run.exited;
    t.equal(code, 3, `${rt.name}: the container's exit code (${run.stderr()})`);
    // runc turns ONLCR off on the pty it relays, after the program may have started: it may see either.
    if (binary === RUNC) t.equal(run.output().replace(/\r\n/g, '\n'), 'Hello World\n', 'runc: the output');
    // tsrunc turns it off before start: the program's bytes, exactly.
    else t.equal(run.output(), 'Hello World\n', 'tsrunc: the output, as written');
    t.equal(rt.call(['list', '-q']).stdout, '', `${rt.name}: the container is deleted`);
  }
});

t.test('the pty is the process\' stdio, with the caller\'s window size, else process.consoleSize', async (t) => {
  const script = 'for fd in 0 1 2; do readlink /proc/self/fd/$fd; done; stty size';
  const bundle = terminalBundle(t, ['sh', '-c', script], { height: 10, width: 110 });
  const rt = runtime(t);
  const sized = foreground(t, rt, TSRUNC, ['run', '--bundle', bundle.dir, uniqueId()], { height: 33, width: 111 });
  t.equal((await sized.exited).code, 0, sized.stderr());
  t.equal(sized.output(), '/dev/pts/0\n/dev/pts/0\n/dev/pts/0\n33 111\n');
  // A terminal of no size (0x0) leaves the process' consoleSize in place.
  const unsized = foreground(t, rt, TSRUNC, ['run', '--bundle', bundle.dir, uniqueId()]);
  t.equal((await unsized.exited).code, 0, unsized.stderr());
  t.equal(unsized.output(), '/dev/pts/0\n/dev/pts/0\n/dev/pts/0\n10 110\n');
});

t.test('the caller\'s terminal is raw while relaying, so ^C reaches the container, and is restored after, as with runc', async (t) => {
  // busybox's sh, the container's init, ends with 130 on SIGINT while it reads.
  const bundle = terminalBundle(t, ['sh', '-c', 'echo ready; read line; echo "line: $line"; read again; echo not reached']);
  for (const binary of [TSRUNC, RUNC]) {
    const rt = runtime(t, binary);
    const run = foreground(t, rt, binary, ['run', '--bundle', bundle.dir, uniqueId()]);
    const cooked = terminalMode(run.pty);
    await run.waitFor(/ready/);
    t.not(terminalMode(run.pty), cooked, `${rt.name}: raw mode while the container runs`);
    // The container's pty turns the caller's CR into a newline (ICRNL), as a terminal does.
    fs.writeSync(run.pty.masterFd, 'typed\r');
    await run.waitFor(/line: typed/);
    // In raw mode ^C is a byte for the container's pty, whose line discipline signals its processes.
    fs.writeSync(run.pty.masterFd, '\x03');
    t.equal((await run.exited).code, 130, `${rt.name}: ^C ended the container (${run.stderr()})`);
    t.equal(relayed(binary, run.output()), 'ready\ntyped\nline: typed\n^C', `${rt.name}: the output, with the pty's echo`);
    t.equal(terminalMode(run.pty), cooked, `${rt.name}: the terminal's settings are back`);
  }
});

t.test('a resize and the runtime\'s signals reach the container', async (t) => {
  const bundle = terminalBundle(t, ['sh', '-c', 'trap "stty size" WINCH; trap "echo term; exit 4" TERM; echo ready; while :; do sleep 0.05; done']);
  const rt = runtime(t);
  const run = foreground(t, rt, TSRUNC, ['run', '--bundle', bundle.dir, uniqueId()], { height: 20, width: 80 });
  await run.waitFor(/ready/);
  // As a terminal emulator does: a new size, then SIGWINCH to the foreground (here, the runtime).
  spawnSync('stty', ['rows', '42', 'cols', '120'], { stdio: [run.pty.slaveFd, 'ignore', 'ignore'] });
  process.kill(run.pid, 'SIGWINCH');
  await run.waitFor(/42 120/);
  process.kill(run.pid, 'SIGTERM');
  t.equal((await run.exited).code, 4, run.stderr());
  t.match(run.output(), /42 120\n(.|\n)*term\n$/);
  t.equal(rt.call(['list', '-q']).stdout, '', 'the container is deleted');
});

t.test('exec -t gives the process a pty of the container\'s devpts on 0-2, as runc', async (t) => {
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const script = 'for fd in 0 1 2; do readlink /proc/self/fd/$fd; done; ls -1 /dev/pts; exit 5';
  for (const binary of [TSRUNC, RUNC]) {
    const rt = runtime(t, binary);
    const id = uniqueId();
    t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0, `${rt.name}: run --detach`);
    const exec = foreground(t, rt, binary, ['exec', '-t', id, 'sh', '-c', script]);
    t.equal((await exec.exited).code, 5, `${rt.name}: the process' exit code (${exec.stderr()})`);
    // fds 0-2 are one pty, which the container's own devpts lists (beside its ptmx).
    t.match(exec.output().replace(/\r\n/g, '\n'), /^(\/dev\/pts\/(\d+))\n\1\n\1\n(.|\n)*\b\2\n/, `${rt.name}: the process' stdio`);
    t.equal(rt.call(['state', id]).status, 0, `${rt.name}: the container runs on`);
  }
});

t.test('the pty belongs to the process\' user, its group to devpts\' gid=5, in run and exec, as runc', async (t) => {
  const spec = baseSpec(['sh', '-c', 'stat -c %u:%g $(tty); sleep 100']);
  spec.process!.terminal = true;
  spec.process!.user = { uid: 1000, gid: 100 };
  const bundle = makeBundle(t, spec);
  for (const binary of [TSRUNC, RUNC]) {
    const rt = runtime(t, binary);
    const id = uniqueId();
    const run = foreground(t, rt, binary, ['run', '--bundle', bundle.dir, id]);
    t.match(relayed(binary, await run.waitFor(/\n/)), /^1000:5\n/, `${rt.name}: run`);
    const exec = foreground(t, rt, binary, ['exec', '-t', id, 'sh', '-c', 'stat -c %u:%g $(tty)']);
    t.equal((await exec.exited).code, 0, exec.stderr());
    t.equal(exec.output().replace(/\r\n/g, '\n'), '1000:5\n', `${rt.name}: exec -t`);
    t.equal(rt.call(['kill', id, 'KILL']).status, 0, `${rt.name}: kill`);
    t.equal((await run.exited).code, 137, `${rt.name}: run ends with the container (${run.stderr()})`);
  }
});

t.test('exec -t -d without --console-socket is refused, as by runc, and leaves the container as it was', async (t) => {
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const rt = runtime(t);
  const id = uniqueId();
  t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0, 'run --detach');
  const r = rt.call(['exec', '-t', '-d', id, 'sleep', '50']);
  t.equal(r.status, 255);
  t.match(r.stderr, /^time=.* level=error msg="cannot allocate tty if runc will detach without setting console socket"\n$/);
  t.equal(rt.call(['ps', id]).stdout.trim().split('\n').length, 2, 'no process was added: a header and sleep 100');
});
