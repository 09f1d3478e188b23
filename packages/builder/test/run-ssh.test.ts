// RUN --mount=type=ssh against a real ssh-agent holding a real key: the step's ssh-add lists the
// key through the relayed socket, which has the owner and mode the mount asked for and is in no layer.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';

const hasSsh = spawnSync('ssh-agent', ['-h']).error === undefined && spawnSync('ssh-add', ['-h']).error === undefined;

/** ssh-add and the shared libraries it loads, laid out under `sysroot` at their host paths. */
function copyWithLibraries(binary: string, sysroot: string): void {
  const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout;
  const files = [binary, ...[...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!)];
  for (const file of files) {
    fs.mkdirSync(path.join(sysroot, path.dirname(file)), { recursive: true });
    fs.copyFileSync(fs.realpathSync(file), path.join(sysroot, file));
    fs.chmodSync(path.join(sysroot, file), 0o755);
  }
}

t.test('RUN --mount=type=ssh relays to the agent given with --ssh', { skip: hasSsh ? false : 'openssh-client (ssh-agent, ssh-add) is not installed' }, async (t) => {
  const p = project(t, {
    Dockerfile: [
      'FROM scratch', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', 'COPY sysroot/ /',
      'RUN --mount=type=ssh ssh-add -l > /keys.txt; echo "$SSH_AUTH_SOCK" > /env.txt',
      'RUN --mount=type=ssh,id=deploy,uid=1000,mode=0640,target=/tmp/agent.sock stat -c "%u %a" /tmp/agent.sock > /sock.txt || echo absent > /sock.txt',
      'CMD ["/bin/sh"]', '',
    ].join('\n'),
  });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  copyWithLibraries(spawnSync('sh', ['-c', 'command -v ssh-add'], { encoding: 'utf8' }).stdout.trim(), path.join(p.dir, 'ctx', 'sysroot'));

  const agentSocket = path.join(p.dir, 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', agentSocket, '-s'], { encoding: 'utf8' });
  t.equal(agent.status, 0, `ssh-agent: ${agent.stderr}`);
  const agentPid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
  t.teardown(() => { if (agentPid) process.kill(Number(agentPid)); });
  const key = path.join(p.dir, 'id_ed25519');
  t.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsbuild-test-key', '-f', key]).status, 0, 'ssh-keygen');
  t.equal(spawnSync('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } }).status, 0, 'ssh-add');
  const fingerprint = spawnSync('ssh-keygen', ['-l', '-f', key], { encoding: 'utf8' }).stdout.split(' ')[1]!;

  const missing = p.build(['-t', 'ssh:1', '--ssh', `default=${agentSocket}`]);
  t.equal(missing.status, 0, missing.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('ssh:1'), 'sock.txt'), 'utf8'), 'absent\n', 'an ssh mount whose agent was not given is left out (not required)');
  const required = project(t, { Dockerfile: 'FROM scratch\nRUN --mount=type=ssh,required=true true\n' });
  const refused = required.build([]);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /ssh agent default is required but was not given with --ssh default/);

  const r = p.build(['-t', 'ssh:1', '--no-cache', '--ssh', `default=${agentSocket}`, '--ssh', `deploy=${agentSocket}`]);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('ssh:1');
  t.match(fs.readFileSync(path.join(rootfs, 'keys.txt'), 'utf8'), `${fingerprint} tsbuild-test-key`, 'the step lists the agent\'s key');
  t.equal(fs.readFileSync(path.join(rootfs, 'env.txt'), 'utf8'), '/run/buildkit/ssh_agent.0\n', 'SSH_AUTH_SOCK points at the mount');
  t.equal(fs.readFileSync(path.join(rootfs, 'sock.txt'), 'utf8'), '1000 640\n', 'the socket has the uid and mode of the mount');
  t.notOk(fs.existsSync(path.join(rootfs, 'run/buildkit')), 'the mount point is in no layer');

  const bad = p.build(['--ssh', `default=${key}`]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /--ssh default=.*id_ed25519 is not an ssh-agent socket/);
});
