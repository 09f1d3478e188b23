// SCMP_ACT_NOTIFY (runtime-spec linux.seccomp.listenerPath), side by side with runc: the listener of
// each process' filter reaches the agent with the container process state, before the process
// can make a notified call, and the call waits for the agent's answer; run and exec, with and
// without no_new_privs (the filter is loaded at different points then). Bad input: refused at
// create (or exec), nothing left behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Spec, State } from '@tsrunc/spec-schemas';
import { listenUnixSocket } from '@tsrunc/runtime/testing';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId, type Teardown } from '../src/harness.js';

const AGENT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/seccomp-agent.js');
const MKDIR = 83;

interface ProcessState { ociVersion: string; fds: string[]; pid: number; metadata?: string; state: State }
type AgentEvent = { event: 'state'; state: ProcessState } | { event: 'mkdir'; pid: number; parent: number; path: string; blockedIn: number };

/** The agent, listening at the returned path; its events are read back with `events()`. */
function startAgent(t: Teardown): { socketPath: string; events(): AgentEvent[]; stop(): Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-agent-'));
  const socketPath = path.join(dir, 'agent.sock');
  const listenFd = listenUnixSocket(socketPath);
  const out = path.join(dir, 'events');
  const outFd = fs.openSync(out, 'w');
  const child = spawn(process.execPath, [AGENT], { stdio: ['ignore', outFd, 'inherit', listenFd] });
  fs.closeSync(listenFd);
  fs.closeSync(outFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.teardown(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const events = () => fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AgentEvent);
  return { socketPath, events, stop };
}

function notifySpec(args: string[], noNewPrivileges: boolean, listenerPath: string): Spec {
  const spec = baseSpec(args);
  spec.process!.noNewPrivileges = noNewPrivileges;
  spec.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath,
    listenerMetadata: 'conformance',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
  };
  return spec;
}

/** The processes in `pid`'s pid namespace: the container's, when `pid` is its init. */
function processesBeside(pid: number): number[] {
  const ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((other) => {
    try { return fs.readlinkSync(`/proc/${other}/ns/pid`) === ns; } catch { return false; }
  });
}

const TRY_MKDIR = 'mkdir /tmp/notified; echo "mkdir=$?"; test -e /tmp/notified || echo absent';

for (const noNewPrivileges of [false, true]) {
  for (const binary of [undefined, RUNC]) {
    t.test(`run: the agent gets the state and the listener, mkdir waits for its answer (${binary ? 'runc' : 'tsrunc'}, noNewPrivileges: ${noNewPrivileges})`, async (t) => {
      const agent = startAgent(t);
      const bundle = makeBundle(t, notifySpec(['sh', '-c', TRY_MKDIR], noNewPrivileges, agent.socketPath));
      const rt = runtime(t, binary);
      const id = uniqueId('notify');
      const r = rt.call(['run', '--bundle', bundle.dir, id]);
      t.equal(r.status, 0, `run: ${r.stderr}`);
      t.equal(r.stdout, 'mkdir=1\nabsent\n', "the agent's error reached the container, and mkdir was not made");
      t.match(r.stderr, /mkdir: .*\/tmp\/notified.*No medium found/);
      t.notOk(fs.existsSync(path.join(bundle.rootfs, 'tmp/notified')), 'no directory in the rootfs');

      const events = agent.events();
      t.equal(events.length, 2, `one state, one notification: ${JSON.stringify(events)}`);
      const received = events[0]!;
      const notified = events[1]!;
      if (received.event !== 'state' || notified.event !== 'mkdir') return void t.fail('state first, then the notification');
      const s = received.state;
      t.type(s.ociVersion, 'string');
      t.ok(s.ociVersion.length > 0, 'ociVersion');
      t.same(s.fds, ['seccompFd'], 'fds names the listener');
      t.equal(s.metadata, 'conformance', 'metadata is listenerMetadata');
      t.equal(s.state.id, id);
      t.equal(s.state.status, 'creating');
      t.equal(s.state.bundle, bundle.dir);
      t.ok(s.pid > 0, 'pid');
      t.equal(s.state.pid, s.pid, "the init's pid, in the state too");
      t.equal(notified.path, '/tmp/notified', 'the agent read the call');
      t.equal(notified.parent, s.pid, "the call of mkdir, the init's child: the filter is inherited");
      t.equal(notified.blockedIn, MKDIR, 'the caller was inside mkdir until the agent answered');
    });
  }

  t.test(`exec: each exec'd process' listener goes to the agent with its own pid (noNewPrivileges: ${noNewPrivileges})`, async (t) => {
    const agent = startAgent(t);
    const bundle = makeBundle(t, notifySpec(['sleep', '60'], noNewPrivileges, agent.socketPath));
    const rt = runtime(t);
    const id = uniqueId('notify');
    t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0, 'run --detach');
    const initPid = (JSON.parse(rt.call(['state', id]).stdout) as State).pid!;
    const pidFile = path.join(bundle.dir, 'exec.pid');
    const r = rt.call(['exec', '--pid-file', pidFile, id, 'sh', '-c', TRY_MKDIR]);
    t.equal(r.status, 0, `exec: ${r.stderr}`);
    t.equal(r.stdout, 'mkdir=1\nabsent\n', "the agent's error reached the exec'd process");
    const execPid = Number(fs.readFileSync(pidFile, 'utf8'));

    const events = agent.events();
    t.same(events.map((e) => e.event), ['state', 'state', 'mkdir'], 'one listener per process, one notification');
    const [created, executed, notified] = events;
    if (created?.event !== 'state' || executed?.event !== 'state' || notified?.event !== 'mkdir') return;
    t.equal(created.state.pid, initPid);
    t.equal(executed.state.pid, execPid, "the exec'd process' pid");
    t.not(execPid, initPid);
    t.equal(executed.state.state.status, 'running');
    t.equal(executed.state.state.pid, initPid, "the container's state names its init");
    t.equal(executed.state.state.id, id);
    t.same(executed.state.fds, ['seccompFd']);
    t.equal(notified.parent, execPid, "the call of mkdir, the exec'd process' child");
    t.equal(notified.blockedIn, MKDIR);

    // The agent gone: an exec fails at the connection, and leaves no process behind.
    await agent.stop();
    fs.rmSync(agent.socketPath);
    const failed = rt.call(['exec', id, 'sleep', '61']);
    t.not(failed.status, 0, 'exec fails');
    t.match(failed.stderr, /failed to connect with seccomp agent/);
    t.same(processesBeside(initPid), [initPid], 'only the init is left');
    t.equal(rt.call(['delete', '--force', id]).status, 0);
  });
}

const refusals: { name: string; error: RegExp; edit(seccomp: NonNullable<NonNullable<Spec['linux']>['seccomp']>): void }[] = [
  { name: 'no listenerPath', error: /SCMP_ACT_NOTIFY needs linux\.seccomp\.listenerPath/, edit: (s) => { delete s.listenerPath; } },
  { name: 'an empty listenerPath', error: /SCMP_ACT_NOTIFY needs linux\.seccomp\.listenerPath/, edit: (s) => { s.listenerPath = ''; } },
  { name: 'a notified write', error: /SCMP_ACT_NOTIFY cannot be used for the write syscall/, edit: (s) => { s.syscalls![0]!.names.push('write'); } },
  { name: 'notify as the default action', error: /SCMP_ACT_NOTIFY cannot be used as default action/, edit: (s) => { s.defaultAction = 'SCMP_ACT_NOTIFY'; } },
  { name: 'an unreachable listenerPath', error: /failed to connect with seccomp agent.*ENOENT/, edit: (s) => { s.listenerPath = '/nonexistent/tsrunc-conf-agent.sock'; } },
];

for (const noNewPrivileges of [false, true]) {
  for (const c of refusals) {
    t.test(`create refuses SCMP_ACT_NOTIFY with ${c.name} (noNewPrivileges: ${noNewPrivileges}): one line, nothing left`, async (t) => {
      const spec = notifySpec(['sleep', '60'], noNewPrivileges, '/unused');
      c.edit(spec.linux!.seccomp!);
      const bundle = makeBundle(t, spec);
      const rt = runtime(t);
      const id = uniqueId('notify-bad');
      const r = rt.call(['create', '--bundle', bundle.dir, id]);
      t.not(r.status, 0, 'non-zero exit');
      const lines = r.stderr.trim().split('\n');
      t.equal(lines.length, 1, `one line: ${r.stderr}`);
      t.match(lines[0], c.error);
      t.notOk(fs.existsSync(path.join(rt.root, id)), 'no state dir');
      // A cgroup is removed only once no process is left in it.
      t.notOk(fs.existsSync(`/sys/fs/cgroup/pids/${id}`), 'no cgroup left (v1 pids), so no process either');
    });
  }
}
