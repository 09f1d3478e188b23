// The sandbox of RUN steps, attacked from inside: a service bound to the host's 127.0.0.1, the
// host's traffic read through an AF_PACKET socket, new namespaces and mounts. A step has a network
// namespace of its own (slirp4netns without the host's loopback, or loopback only), docker's
// default capabilities and a seccomp filter; the host's network is an entitlement.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runSeccompProfile } from '../src/run/seccomp-profile.js';
import { busyboxProject, freePort, TSRUNC, type Project } from './project.js';

/**
 * Reads every frame of every interface of its network namespace through an AF_PACKET socket for
 * a while: prints "seen" (exit 0) as soon as one carries the marker, "not seen" (exit 1) if none
 * does, and the error (exit 2) if the socket cannot be opened.
 */
const SNIFFER = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) { perror("socket(AF_PACKET)"); return 2; }
  struct timeval tick = { 0, 100000 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  static char frame[65536];
  for (time_t end = time(NULL) + atoi(argv[2]); time(NULL) < end;) {
    ssize_t n = recv(fd, frame, sizeof frame, 0);
    if (n > 0 && memmem(frame, (size_t)n, argv[1], strlen(argv[1]))) { puts("seen"); return 0; }
  }
  puts("not seen");
  return 1;
}
`;

/**
 * The host's side, in a process of its own (the builds run synchronously): a TCP service on
 * 127.0.0.1 only that greets with the marker, and the marker sent in UDP datagrams over the
 * host's loopback every 50 ms, for a sniffer to find.
 */
const HOST_SERVICE = `
const [port, udpPort, marker] = process.argv.slice(1);
const sender = require('node:dgram').createSocket('udp4');
setInterval(() => sender.send(marker, Number(udpPort), '127.0.0.1'), 50);
require('node:net').createServer((socket) => socket.end(marker + '\\n')).listen(Number(port), '127.0.0.1', () => console.log('ready'));
`;

const MARKER = `host-only-${randomUUID()}`;
const hostNetns = fs.readlinkSync('/proc/self/ns/net');
const hostInterfaces = fs.readdirSync('/sys/class/net').filter((name) => name !== 'lo');
/** What the step's nc says of the host's 127.0.0.1 service when its own loopback has nothing there. */
const REFUSED = 'nc: can\'t connect to remote host (127.0.0.1): Connection refused\n';
/** Docker's default capability set as /proc/PID/status prints it. */
const DOCKER_CAPS = '00000000a80425fb';

let port = 0;
let service: ChildProcess | undefined;
const helpers = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-sandbox-'));
t.teardown(() => {
  service?.kill();
  fs.rmSync(helpers, { recursive: true, force: true });
});

t.before(async () => {
  fs.writeFileSync(path.join(helpers, 'sniff.c'), SNIFFER);
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', path.join(helpers, 'sniff'), path.join(helpers, 'sniff.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc -static: ${cc.stderr}`);
  port = await freePort();
  service = spawn(process.execPath, ['-e', HOST_SERVICE, String(port), String(await freePort()), MARKER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(service.stdout!, 'data') as [Buffer];
  if (line.toString().trim() !== 'ready') throw new Error(`the host service did not start: ${line.toString()}`);
});

/** A busybox project with the sniffer at /bin/sniff and `rest` after it. */
function sandboxProject(tt: Parameters<typeof busyboxProject>[0], rest: string[]): Project {
  const p = busyboxProject(tt, ['COPY sniff /bin/sniff', ...rest]);
  fs.copyFileSync(path.join(helpers, 'sniff'), path.join(p.dir, 'ctx', 'sniff'));
  fs.chmodSync(path.join(p.dir, 'ctx', 'sniff'), 0o755);
  return p;
}

/** The probes of a step's network, each writing its finding to a file of the image under /out. */
const PROBE = [
  'mkdir -p /out',
  'readlink /proc/self/ns/net > /out/netns',
  'ls /sys/class/net > /out/interfaces',
  'ip route > /out/routes',
  'cat /etc/resolv.conf > /out/resolv 2>/dev/null || echo absent > /out/resolv',
  'nc -w 3 127.0.0.1 PORT < /dev/null > /out/loopback 2>&1',
  'nc -w 3 10.0.2.2 PORT < /dev/null > /out/gateway 2>&1',
  `sniff ${MARKER} 2 > /out/sniff 2>&1; true`,
].join('; ');

function probe(p: Project, ref: string): Record<string, string> {
  const out = path.join(p.unpack(ref), 'out');
  return Object.fromEntries(fs.readdirSync(out).map((name) => [name, fs.readFileSync(path.join(out, name), 'utf8')]));
}

/** Nothing of the builds stays: no mount under the project, no slirp4netns serving its steps, no bundle. */
function assertNothingLeft(tt: Pick<typeof t, 'same'>, p: Project): void {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(p.dir));
  tt.same(mounts, [], 'no mount of the builds is left');
  const slirps = fs.readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    let cmdline: string[];
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return false; // gone meanwhile
    }
    return cmdline[0]?.endsWith('slirp4netns') && cmdline.some((arg) => arg.startsWith(p.tmpdir));
  });
  tt.same(slirps, [], 'no slirp4netns of the builds is left');
  tt.same(fs.readdirSync(p.tmpdir), [], 'no bundle or namespace file is left');
}

t.test('a RUN step has a network of its own: slirp4netns out, nothing of the host\'s loopback or interfaces', async (t) => {
  const p = sandboxProject(t, [`RUN ${PROBE.replaceAll('PORT', String(port))}`]);
  const r = p.build(['-t', 'net:default']);
  t.equal(r.status, 0, r.stderr);
  const found = probe(p, 'net:default');
  t.not(found.netns!.trim(), hostNetns, 'the step is in another network namespace than the host');
  const interfaces = found.interfaces!.trim().split('\n');
  t.same(interfaces.sort(), ['lo', 'tap0'], 'it sees loopback and slirp\'s tap0');
  t.same(hostInterfaces.filter((name) => interfaces.includes(name)), [], 'and none of the host\'s interfaces');
  t.match(found.routes, /^default via 10\.0\.2\.2 dev tap0/m, 'its default route is slirp\'s gateway');
  t.equal(found.resolv, 'nameserver 10.0.2.3\n', 'its resolver is slirp\'s DNS forwarder');
  t.equal(found.loopback, REFUSED, 'the host\'s 127.0.0.1 service is not reached on 127.0.0.1');
  t.equal(found.gateway, 'nc: can\'t connect to remote host (10.0.2.2): Network is unreachable\n', 'nor through slirp\'s gateway (host loopback disabled)');
  t.equal(found.sniff, 'not seen\n', 'an AF_PACKET socket opens (CAP_NET_RAW) but reads none of the host\'s traffic');
  const rootfs = p.unpack('net:default');
  t.notOk(fs.existsSync(path.join(rootfs, 'etc/resolv.conf')) || fs.existsSync(path.join(rootfs, 'etc/hosts')), 'the network files are in no layer');
  assertNothingLeft(t, p);
});

t.test('--network=host is the network.host entitlement, from the Dockerfile or the command line', async (t) => {
  const p = sandboxProject(t, [`RUN --network=host ${PROBE.replaceAll('PORT', String(port))}`]);
  const refused = p.build([]);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /tsbuild: error: .*RUN --network=host is not allowed: the build must be started with --allow network.host\n$/);
  assertNothingLeft(t, p);

  const allowed = p.build(['-t', 'net:host', '--allow', 'network.host']);
  t.equal(allowed.status, 0, allowed.stderr);
  const found = probe(p, 'net:host');
  t.equal(found.netns!.trim(), hostNetns, 'allowed, the step is in the host\'s network namespace');
  t.equal(found.loopback, `${MARKER}\n`, 'and reaches the host\'s 127.0.0.1 service (the probe can tell)');
  t.equal(found.sniff, 'seen\n', 'and its AF_PACKET socket reads the host\'s loopback traffic (the sniffer can tell)');
  assertNothingLeft(t, p);

  const plain = sandboxProject(t, [`RUN ${PROBE.replaceAll('PORT', String(port))}`]);
  const cli = plain.build(['--network', 'host']);
  t.equal(cli.status, 1);
  t.equal(cli.stderr, 'tsbuild: error: --network=host is not allowed: add --allow network.host\n');
  const cliAllowed = plain.build(['-t', 'net:cli', '--network', 'host', '--allow', 'network.host']);
  t.equal(cliAllowed.status, 0, cliAllowed.stderr);
  t.equal(probe(plain, 'net:cli').netns!.trim(), hostNetns, '--network host is the network of RUN steps that do not choose');
  assertNothingLeft(t, plain);

  const bad = plain.build(['--network', 'bridge']);
  t.equal(bad.status, 1);
  t.equal(bad.stderr, 'tsbuild: error: --network=bridge: must be default, none or host\n');
  t.equal(plain.build(['--allow', 'network.everything']).stderr,
    'tsbuild: error: --allow network.everything: unknown entitlement (network.host, security.insecure)\n');
  const badRun = sandboxProject(t, ['RUN --network=bridge true']).build([]);
  t.equal(badRun.status, 1);
  t.equal(badRun.stderr, 'tsbuild: error: Dockerfile:6: unsupported value for --network: "bridge" (expected default, none, host)\n');
});

t.test('RUN --network=none: a namespace with loopback up and nothing else', async (t) => {
  const p = sandboxProject(t, [`RUN --network=none ${PROBE.replaceAll('PORT', String(port))}; ip addr show lo > /out/lo`]);
  const r = p.build(['-t', 'net:none']);
  t.equal(r.status, 0, r.stderr);
  const found = probe(p, 'net:none');
  t.not(found.netns!.trim(), hostNetns);
  t.equal(found.interfaces, 'lo\n', 'loopback only');
  t.match(found.lo, /<LOOPBACK,UP,LOWER_UP>.*\n.*\n\s+inet 127\.0\.0\.1\/8/, 'loopback is up');
  t.equal(found.routes, '', 'no route out');
  t.equal(found.resolv, 'absent\n', 'no resolver');
  t.equal(found.loopback, REFUSED, 'the host\'s 127.0.0.1 service is not reached');
  t.equal(found.sniff, 'not seen\n');
  assertNothingLeft(t, p);
});

t.test('without a usable slirp4netns, RUN gets loopback only, said once in the output', async (t) => {
  const p = sandboxProject(t, [`RUN ${PROBE.replaceAll('PORT', String(port))}`, 'RUN ls /sys/class/net > /out/second']);
  // A slirp4netns that fails as it does on a host without /dev/net/tun.
  const bin = path.join(p.dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'slirp4netns'), '#!/bin/sh\necho "open(\\"/dev/net/tun\\"): No such file or directory" >&2\nexit 1\n', { mode: 0o755 });
  const r = p.build(['-t', 'net:fallback', '--progress', 'plain'], { PATH: `${bin}:${process.env.PATH}` });
  t.equal(r.status, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.includes('slirp4netns is not usable'));
  t.equal(notes.length, 1, 'the fallback is stated once for the build');
  t.match(notes[0], /slirp4netns is not usable \(open\("\/dev\/net\/tun"\): No such file or directory\): RUN steps get a network namespace with loopback only$/);
  const found = probe(p, 'net:fallback');
  t.not(found.netns!.trim(), hostNetns);
  t.equal(found.interfaces, 'lo\n');
  t.equal(found.second, 'lo\n', 'every step of the build falls back the same way');
  t.equal(found.loopback, REFUSED, 'the host\'s 127.0.0.1 service stays out of reach');
  assertNothingLeft(t, p);
});

t.test('RUN has docker\'s default capabilities and seccomp filter; --security=insecure has neither limit', async (t) => {
  const attempts = [
    'mkdir -p /out /mnt/probe',
    'grep -E "^(CapEff|Seccomp):" /proc/self/status > /out/status',
    // A user namespace needs no capability: only the filter can refuse it.
    'unshare -U true 2> /out/unshare; echo $? >> /out/unshare',
    'mount -t tmpfs tmpfs /mnt/probe 2> /out/mount; echo $? >> /out/mount',
  ].join('; ');
  const p = sandboxProject(t, [`RUN ${attempts}`]);
  const r = p.build(['-t', 'sec:default']);
  t.equal(r.status, 0, r.stderr);
  const found = probe(p, 'sec:default');
  t.equal(found.status, `CapEff:\t${DOCKER_CAPS}\nSeccomp:\t2\n`, 'docker\'s default capability set, under a seccomp filter');
  t.equal(found.unshare, 'unshare: unshare(0x10000000): Operation not permitted\n1\n', 'unshare of a user namespace is refused');
  t.equal(found.mount, 'mount: permission denied (are you root?)\n1\n', 'mount is refused');

  const insecure = sandboxProject(t, [`RUN --security=insecure ${attempts}`]);
  const ir = insecure.build(['-t', 'sec:insecure', '--allow', 'security.insecure']);
  t.equal(ir.status, 0, ir.stderr);
  const open = probe(insecure, 'sec:insecure');
  const bounding = /^CapBnd:\s+(\w+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
  t.equal(open.status, `CapEff:\t${bounding}\nSeccomp:\t0\n`, 'insecure: every capability, no filter');
  t.equal(open.unshare, '0\n', 'insecure: the same unshare succeeds (so the filter is what refused it)');
  t.equal(open.mount, '0\n', 'insecure: the same mount succeeds, inside the step\'s own mount namespace');
  assertNothingLeft(t, p);
  assertNothingLeft(t, insecure);
});

t.test('the seccomp profile is shaped to what the runtime supports, never weakened', async (t) => {
  const tsrunc = JSON.parse(spawnSync(TSRUNC, ['features'], { encoding: 'utf8' }).stdout).linux.seccomp;
  const profile = runSeccompProfile(tsrunc, 'x64');
  t.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
  t.equal(profile.defaultErrnoRet, 1, 'what is not allowed fails with EPERM');
  t.same(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = new Set(profile.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW').flatMap((s) => s.names));
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'kexec_load', 'init_module', 'finit_module', 'keyctl', 'bpf', 'open_by_handle_at']) {
    t.notOk(allowed.has(name), `${name} is refused`);
  }
  t.same(['execve', 'clone', 'socket', 'ptrace', 'chroot'].filter((name) => !allowed.has(name)), [], 'the usual life of a process is allowed (clone and socket with conditions)');
  t.same(runSeccompProfile({ ...tsrunc, archs: ['SCMP_ARCH_X86_64'] }, 'x64').architectures, ['SCMP_ARCH_X86_64'], 'only the ABIs the runtime knows');
  t.throws(() => runSeccompProfile(undefined), /the runtime has no seccomp support: RUN steps cannot be confined/);
  t.throws(() => runSeccompProfile({ ...tsrunc, enabled: false }), /no seccomp support/);
  t.throws(() => runSeccompProfile({ ...tsrunc, actions: ['SCMP_ACT_ALLOW'] }), /lacks the action SCMP_ACT_ERRNO/);
  t.throws(() => runSeccompProfile({ ...tsrunc, operators: ['SCMP_CMP_EQ'] }), /lacks the operator SCMP_CMP_NE, SCMP_CMP_MASKED_EQ/);
  t.throws(() => runSeccompProfile(tsrunc, 'mips'), /does not support this machine's architecture \(mips\)/);
});
