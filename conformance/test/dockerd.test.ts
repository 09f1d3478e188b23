// dockerd (Debian's docker.io) driving tsrunc: every everyday `docker` option, run with
// --runtime tsrunc and with --runtime runc on the same daemon and image, must give the same
// result (output and exit code), which is also checked against what the option means.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cgroupV2 } from '../src/cgroup-files.js';
import { hasDockerd, loadBusybox, startDockerd, type Dockerd } from '../src/dockerd.js';

const IMAGE = 'tsrunc-conf-busybox:latest';
const RUNTIMES = ['tsrunc', 'runc'] as const;
type RuntimeName = (typeof RUNTIMES)[number];

// The container's own cgroup files, as it sees them under /sys/fs/cgroup.
const MEMORY_LIMIT = cgroupV2 ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
const PIDS_MAX = cgroupV2 ? '/sys/fs/cgroup/pids.max' : '/sys/fs/cgroup/pids/pids.max';
// A co-mounted "cpu,cpuacct" has a "cpu" symlink beside it, as on the host.
const CPU_LIMIT = cgroupV2 ? 'cat /sys/fs/cgroup/cpu.max' : 'echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us)';

type Options = (runtime: RuntimeName) => string[];
const fixed = (...options: string[]): Options => () => options;

const started = hasDockerd ? await startDockerd(t) : { skip: 'docker.io is not installed (scripts/setup-host.sh installs it)' };
const skip = 'skip' in started ? started.skip : false;
if (skip) console.log(`# skipping: ${skip}`);

t.test('dockerd with tsrunc as with runc', { skip }, async (t) => {
  const d = started as Dockerd;
  loadBusybox(d, IMAGE);

  /** `docker run --rm` with each runtime: the same status and output, and these expected ones. */
  const sameRun = (name: string, options: Options, script: string, expected: { stdout: string; status?: number }) => {
    t.test(name, async (t) => {
      const results = RUNTIMES.map((runtime) => {
        const r = d.docker(['run', '--rm', '--runtime', runtime, ...options(runtime), IMAGE, 'sh', '-c', script]);
        return { status: r.status, stdout: r.stdout, ...(r.status !== (expected.status ?? 0) ? { stderr: r.stderr.trim() } : {}) };
      });
      t.same(results[0], { status: expected.status ?? 0, stdout: expected.stdout }, 'tsrunc');
      t.same(results[1], results[0], 'runc gives the same');
    });
  };
  sameRun('run: output and exit code', fixed(), 'echo hello; echo oops >&2; exit 3', { stdout: 'hello\n', status: 3 });
  sameRun('-e, -w, --user', fixed('-e', 'FOO=bar', '-w', '/tmp/work', '--user', '1000:2000'), 'echo $FOO; pwd; id -u; id -g',
    { stdout: 'bar\n/tmp/work\n1000\n2000\n' });
  sameRun('--read-only', fixed('--read-only'), 'touch /x 2>/dev/null && echo writable || echo read-only; touch /dev/shm/x && echo shm-writable',
    { stdout: 'read-only\nshm-writable\n' });
  sameRun('--tmpfs', fixed('--read-only', '--tmpfs', '/run:rw,size=1m,mode=1770', '--tmpfs', '/scratch'),
    "touch /run/x /scratch/y && echo writable; stat -c '%a' /run /scratch; grep -E ' /(run|scratch) ' /proc/mounts | cut -d' ' -f1,3",
    // runc gives a tmpfs on a directory of the image that directory's mode (/run: 755), mode= notwithstanding.
    { stdout: 'writable\n755\n1777\ntmpfs tmpfs\ntmpfs tmpfs\n' });

  // Binds and volumes: what the container writes reaches the host's directory, a :ro bind refuses it.
  const binds = Object.fromEntries(RUNTIMES.map((r) => {
    const dir = d.scratch(`bind-${r}`);
    fs.writeFileSync(path.join(dir, 'from-host'), 'host file\n');
    return [r, dir];
  })) as Record<RuntimeName, string>;
  sameRun('-v binds and volumes', (r) => ['-v', `${binds[r]}:/bind`, '-v', `${binds[r]}:/bind-ro:ro`, '-v', `tsrunc-conf-volume-${r}:/data`],
    'cat /bind/from-host; echo written > /bind/from-container; touch /bind-ro/x 2>/dev/null || echo ro-refused; echo v > /data/v; cat /data/v',
    { stdout: 'host file\nro-refused\nv\n' });
  t.test('the binds\' writes reached the host', async (t) => {
    for (const r of RUNTIMES) t.equal(fs.readFileSync(path.join(binds[r], 'from-container'), 'utf8'), 'written\n', r);
    for (const r of RUNTIMES) t.equal(d.docker(['volume', 'rm', `tsrunc-conf-volume-${r}`]).status, 0, `${r}'s volume removed`);
  });

  sameRun('--cap-add, --cap-drop', fixed('--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', '--cap-add', 'KILL'),
    'grep -E "^Cap(Eff|Bnd)" /proc/self/status; chown 1 /tmp 2>/dev/null || echo chown-refused',
    { stdout: 'CapEff:\t0000000000000420\nCapBnd:\t0000000000000420\nchown-refused\n' });
  sameRun('--security-opt no-new-privileges', fixed('--security-opt', 'no-new-privileges'), 'grep NoNewPrivs /proc/self/status',
    { stdout: 'NoNewPrivs:\t1\n' });
  sameRun('--memory', fixed('--memory', '64m'), `cat ${MEMORY_LIMIT}`, { stdout: '67108864\n' });
  sameRun('--pids-limit', fixed('--pids-limit', '50'), `cat ${PIDS_MAX}`, { stdout: '50\n' });
  sameRun('--cpus', fixed('--cpus', '0.5'), CPU_LIMIT, { stdout: '50000 100000\n' });
  sameRun('--ulimit', fixed('--ulimit', 'nofile=512:1024'), 'ulimit -n; ulimit -Hn', { stdout: '512\n1024\n' });
  sameRun('--hostname', fixed('--hostname', 'box'), 'hostname; cat /etc/hostname', { stdout: 'box\nbox\n' });
  sameRun('--sysctl', fixed('--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000000'),
    'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax', { stdout: '1\n1000000\n' });
  sameRun('--network none', fixed('--network', 'none'), 'ls /sys/class/net', { stdout: 'lo\n' });

  t.test('-d with logs, exec, top, pause, unpause, stop, start, kill, rm', async (t) => {
    const lifecycle = (runtime: RuntimeName) => {
      const name = `tsrunc-conf-detached-${runtime}`;
      const seen: Record<string, unknown> = {};
      const state = () => d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name]).stdout.trim();
      const run = d.docker(['run', '-d', '--name', name, '--runtime', runtime, IMAGE, 'sh', '-c', 'echo started; exec sleep 1000']);
      seen['run'] = run.status;
      for (let i = 0; i < 50 && !d.docker(['logs', name]).stdout.includes('started'); i++) spawnWait(100);
      seen['logs'] = d.docker(['logs', name]).stdout;
      seen['exec'] = d.docker(['exec', '-e', 'X=2', name, 'sh', '-c', 'echo exec $X; id -u']).stdout;
      seen['top'] = /sleep 1000/.test(d.docker(['top', name]).stdout);
      seen['pause'] = [d.docker(['pause', name]).status, state()];
      seen['unpause'] = [d.docker(['unpause', name]).status, state()];
      seen['stop'] = [d.docker(['stop', '-t', '1', name]).status, state()];
      seen['start'] = [d.docker(['start', name]).status, state()];
      seen['kill'] = [d.docker(['kill', name]).status, state()];
      seen['rm'] = [d.docker(['rm', name]).status, d.docker(['inspect', name]).status];
      return seen;
    };
    const ours = lifecycle('tsrunc');
    t.same(ours, {
      run: 0, logs: 'started\n', exec: 'exec 2\n0\n', top: true,
      pause: [0, 'paused 0'], unpause: [0, 'running 0'],
      // sleep, as pid 1 of its namespace, ignores SIGTERM: stop ends it with SIGKILL after 1 s.
      stop: [0, 'exited 137'], start: [0, 'running 0'], kill: [0, 'exited 137'], rm: [0, 1],
    }, 'tsrunc');
    t.same(lifecycle('runc'), ours, 'runc gives the same');
  });
});

/** Blocks for `ms` (the lifecycle steps are sequential docker calls). */
function spawnWait(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
