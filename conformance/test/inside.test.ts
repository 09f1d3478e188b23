// What the container's process sees, reported from inside by busybox tools.
import fs from 'node:fs';
import t from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, runtime, uniqueId, type Teardown } from '../src/harness.js';

/** Runs `script` with sh in a container made from `spec`; returns stdout, throwing (failing the test) on a non-zero exit. */
function inside(t: Teardown, script: string, edit: (spec: Spec) => void = () => {}): string {
  const spec = baseSpec(['sh', '-c', script]);
  edit(spec);
  const bundle = makeBundle(t, spec);
  const r = runtime(t).call(['run', '--bundle', bundle.dir, uniqueId()]);
  if (r.status !== 0) throw new Error(`run exited with ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

const cpuRoot = '/sys/fs/cgroup/cpu';

/** The root cpu cgroup's real-time runtime its children have not taken, and the children that hold some. */
function freeRealtimeBudget(): { runtime: number; holders: string[] } {
  const read = (dir: string): number => Number(fs.readFileSync(`${dir}/cpu.rt_runtime_us`, 'utf8'));
  // -1 is no limit at all.
  let runtime = read(cpuRoot) === -1 ? Infinity : read(cpuRoot);
  const holders: string[] = [];
  for (const entry of fs.readdirSync(cpuRoot, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const held = read(`${cpuRoot}/${entry.name}`);
    if (held > 0) holders.push(`${entry.name}: ${held}us`);
    runtime -= held;
  }
  return { runtime, holders };
}

t.test('hostname and domainname', async (t) => {
  const out = inside(t, 'hostname; cat /proc/sys/kernel/domainname', (s) => { s.hostname = 'box1'; s.domainname = 'example.org'; });
  t.equal(out, 'box1\nexample.org\n');
});

t.test('new namespaces differ from the host\'s', async (t) => {
  // runc's default spec has a cgroup namespace only on pure v2 hosts: asked for here.
  const out = inside(t, 'for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done', (s) => {
    if (!s.linux!.namespaces!.some((ns) => ns.type === 'cgroup')) s.linux!.namespaces!.push({ type: 'cgroup' });
  });
  const host = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'].map((n) => fs.readlinkSync(`/proc/self/ns/${n}`));
  const seen = out.trim().split('\n');
  t.equal(seen.length, 6);
  seen.forEach((link, i) => t.not(link, host[i], `${host[i]} is not shared`));
});

t.test('the process is pid 1 of its pid namespace', async (t) => {
  t.equal(inside(t, 'echo $$'), '1\n');
});

t.test('user, groups, cwd, env, umask', async (t) => {
  const out = inside(t, 'id -u; id -g; id -G; pwd; echo $GREETING; umask', (s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [2000, 3000], umask: 0o027 };
    s.process!.cwd = '/tmp';
    s.process!.env!.push('GREETING=hello');
  });
  t.equal(out, '1000\n1000\n1000 2000 3000\n/tmp\nhello\n0027\n');
});

t.test('rlimits', async (t) => {
  const out = inside(t, 'ulimit -n; ulimit -Hn', (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }]; });
  t.equal(out, '321\n654\n');
});

t.test('process.scheduler and process.ioPriority as the kernel reports them', async (t) => {
  // /proc/1/stat fields 19, 40 and 41: nice, rt_priority, policy.
  const stat = 'cut -d" " -f19,40,41 /proc/1/stat; ionice -p 1';
  const batch = inside(t, stat, (s) => {
    s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
  });
  t.equal(batch, '7 0 3\nbest-effort: prio 6\n', 'SCHED_BATCH at nice 7, best-effort I/O at level 6');
  // Where real-time tasks are grouped (v1 with RT_GROUP_SCHED), a cgroup runs one only with a
  // budget of its own, as with runc, and the kernel grants it only from what the root's other
  // children leave free: runc's update.bats gives its parent cgroup the root's whole budget and
  // leaves it so.
  const grouped = fs.existsSync(`${cpuRoot}/cpu.rt_runtime_us`);
  const budget = 10000;
  const free = grouped ? freeRealtimeBudget() : { runtime: budget, holders: [] };
  if (free.runtime < budget) {
    t.test('SCHED_RR at priority 10, idle I/O', { skip: `the root cpu cgroup has ${free.runtime}us of real-time budget free, ${budget} needed (held by ${free.holders.join(', ')})` }, async () => {});
  } else {
    const realtime = inside(t, stat, (s) => {
      s.process!.scheduler = { policy: 'SCHED_RR', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      if (grouped) s.linux!.resources = { ...s.linux!.resources, cpu: { realtimeRuntime: budget, realtimePeriod: 1000000 } };
    });
    t.equal(realtime, '0 10 2\nidle\n', 'SCHED_RR at priority 10, idle I/O');
  }

  for (const [scheduler, error] of [
    [{ policy: 'SCHED_FIFO', priority: 0 }, /process.scheduler.priority 0 is not in \[1, 99\]/],
    [{ policy: 'SCHED_OTHER', nice: 30 }, /process.scheduler.nice 30 is not in \[-20, 19\]/],
    [{ policy: 'SCHED_OTHER', runtime: 1000 }, /only for SCHED_DEADLINE/],
  ] as const) {
    const spec = baseSpec(['true']);
    spec.process!.scheduler = scheduler;
    const bundle = makeBundle(t, spec);
    const id = uniqueId();
    const rt = runtime(t);
    const r = rt.call(['create', '--bundle', bundle.dir, id]);
    t.equal(r.status, 1, `create refuses ${JSON.stringify(scheduler)}`);
    t.match(r.stderr, error, 'naming the problem');
    t.not(rt.call(['state', id]).status, 0, 'and leaves no container');
  }
});

t.test('capabilities and no_new_privs as /proc/self/status reports them', async (t) => {
  const out = inside(t, 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status', (s) => {
    s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: [], ambient: [] };
    s.process!.noNewPrivileges = true;
  });
  // CAP_CHOWN is bit 0, CAP_KILL bit 5.
  t.match(out, /CapPrm:\s+0000000000000020/);
  t.match(out, /CapEff:\s+0000000000000020/);
  t.match(out, /CapBnd:\s+0000000000000021/);
  t.match(out, /CapAmb:\s+0000000000000000/);
  t.match(out, /NoNewPrivs:\s+1/);
});

t.test('seccomp: a denied syscall fails with the configured errno', async (t) => {
  const out = inside(t, 'mkdir /tmp/x 2>&1; echo rc=$?; grep ^Seccomp: /proc/self/status', (s) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  });
  t.match(out, /Operation not permitted/);
  t.match(out, /rc=1/);
  t.match(out, /Seccomp:\s+2/);
});

t.test('mounts: proc, devpts, shm, mqueue, sysfs read-only, a bind mount and a tmpfs with options', async (t) => {
  const host = fs.mkdtempSync('/tmp/tsrunc-conf-bind-');
  t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
  fs.writeFileSync(`${host}/file`, 'from the host\n');
  const out = inside(t, 'cat /data/file; cat /proc/self/mountinfo', (s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro'] });
    s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'size=1m', 'mode=700'] });
  });
  t.match(out, /^from the host\n/);
  for (const [dest, type] of [['/proc', 'proc'], ['/dev/pts', 'devpts'], ['/dev/shm', 'tmpfs'], ['/dev/mqueue', 'mqueue'], ['/sys', 'sysfs'], ['/scratch', 'tmpfs']]) {
    t.match(out, new RegExp(` ${dest} \\S+ (.* )?- ${type} `), `${dest} is a ${type} mount`);
  }
  t.match(out, / \/data ro,/, '/data is read-only');
  t.match(out, / \/sys ro,/, '/sys is read-only');
  t.match(out, / \/scratch rw,[^ ]*noexec/, '/scratch is noexec');
});

t.test('default devices, /dev symlinks and linux.devices', async (t) => {
  const out = inside(t, 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse; for l in fd stdin ptmx; do readlink /dev/$l; done', (s) => {
    s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 0, gid: 0 }];
  });
  t.match(out, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/null$/m);
  t.match(out, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+5 .* \/dev\/zero$/m);
  t.match(out, /^crw-r-----\s+1 root\s+root\s+10,\s+229 .* \/dev\/fuse$/m);
  t.match(out, /\/proc\/self\/fd\n\/proc\/self\/fd\/0\npts\/ptmx\n$/);
});

t.test('masked and read-only paths', async (t) => {
  const out = inside(t, 'wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null; echo rc=$?');
  t.equal(out, '0\n0\nrc=1\n');
});

t.test('root.readonly makes / read-only', async (t) => {
  const out = inside(t, 'touch /x 2>/dev/null; echo rc=$?', (s) => { s.root!.readonly = true; });
  t.equal(out, 'rc=1\n');
});

t.test('sysctl in a new network namespace', async (t) => {
  const out = inside(t, 'cat /proc/sys/net/ipv4/ip_forward', (s) => { s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; });
  t.equal(out, '1\n');
});

t.test('a user namespace with uid/gid mappings', async (t) => {
  const out = inside(t, 'cat /proc/self/uid_map /proc/self/gid_map; id -u', (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    // A cgroup mount and sysfs need rights the mapped root lacks over the host's: drop them.
    s.mounts = s.mounts!.filter((m) => m.type !== 'cgroup' && m.type !== 'sysfs' && m.type !== 'mqueue');
  });
  t.match(out, /^\s+0\s+100000\s+65536\n\s+0\s+100000\s+65536\n0\n$/);
});

t.test('a time namespace with offsets', async (t) => {
  const out = inside(t, 'cat /proc/uptime', (s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
  });
  t.ok(Number(out.split(' ')[0]) >= 86400 * 365, `uptime ${out.trim()} includes a year of offset`);
});

t.test('a session keyring of its own, named after the container', async (t) => {
  const out = inside(t, 'grep -o "keyring *[^:]*:" /proc/keys | sed "s/keyring *//"', (s) => {
    s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys');
  });
  t.match(out, /^c-\d+-\d+:$/m, 'the container id names a keyring the process holds');
});

t.test('--no-pivot moves the rootfs over / instead of pivot_root', async (t) => {
  const spec = baseSpec(['sh', '-c', 'ls /; head -1 /proc/self/mountinfo | cut -d" " -f5']);
  const bundle = makeBundle(t, spec);
  const r = runtime(t).call(['run', '--no-pivot', '--bundle', bundle.dir, uniqueId()]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^bin\n/, 'the rootfs is /');
});

t.test('linux.personality LINUX32 makes uname report a 32-bit machine', { skip: process.arch === 'x64' ? false : 'the LINUX32 persona is checked on x86_64 hosts' }, async (t) => {
  const out = inside(t, 'uname -m', (s) => { s.linux!.personality = { domain: 'LINUX32' }; });
  t.equal(out, 'i686\n');
});
