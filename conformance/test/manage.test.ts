// Managing a running container from the command line: resources from config.json in the kernel's
// files, exec, ps, pause/resume, update, events --stats, kill --all; checked on the host's cgroups.
import fs from 'node:fs';
import t from 'tap';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

const V1_MEMORY = '/sys/fs/cgroup/memory';
const cgroupV1 = fs.existsSync(`${V1_MEMORY}/memory.limit_in_bytes`);

t.test('exec, ps, pause/resume, update, events, kill --all on a running container', { skip: cgroupV1 ? false : 'needs the cgroup v1 memory controller at /sys/fs/cgroup/memory (this host has another layout)' }, async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 20 } };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId();
  const run = rt.call(['run', '--detach', '--bundle', bundle.dir, id]);
  t.equal(run.status, 0, `run --detach: ${run.stderr}`);
  t.equal(fs.readFileSync(`${V1_MEMORY}/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * 1024 * 1024), 'memory limit in the kernel');
  t.equal(fs.readFileSync(`/sys/fs/cgroup/pids/${id}/pids.max`, 'utf8').trim(), '20', 'pids limit in the kernel');

  const exec = rt.call(['exec', id, 'sh', '-c', 'echo $$; cat /proc/1/cmdline']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  t.match(exec.stdout, /^\d+\nsleep\x00300\x00$/, 'exec joins the pid namespace');
  const pidFile = `${bundle.dir}/exec.pid`;
  t.equal(rt.call(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '200']).status, 0, 'exec --detach');
  const execPid = fs.readFileSync(pidFile, 'utf8').trim();
  t.ok(fs.readFileSync(`${V1_MEMORY}/${id}/cgroup.procs`, 'utf8').split('\n').includes(execPid), 'the exec\'d process is in the container\'s cgroup');
  const failing = rt.call(['exec', id, 'sh', '-c', 'exit 5']);
  t.equal(failing.status, 5, 'exec exits with the process status');

  const ps = JSON.parse(rt.call(['ps', '--format', 'json', id]).stdout) as number[];
  t.equal(ps.length, 2, 'ps lists the init and the exec\'d process');

  t.equal(rt.call(['pause', id]).status, 0, 'pause');
  t.match(rt.call(['state', id]).stdout, /"status": "paused"/);
  t.equal(fs.readFileSync(`/sys/fs/cgroup/freezer/${id}/freezer.state`, 'utf8').trim(), 'FROZEN');
  t.equal(rt.call(['resume', id]).status, 0, 'resume');
  t.match(rt.call(['state', id]).stdout, /"status": "running"/);

  t.equal(rt.call(['update', '--memory', '128M', '--pids-limit', '30', id]).status, 0, 'update');
  t.equal(fs.readFileSync(`${V1_MEMORY}/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(128 * 1024 * 1024), 'updated memory limit');
  t.equal(fs.readFileSync(`/sys/fs/cgroup/pids/${id}/pids.max`, 'utf8').trim(), '30', 'updated pids limit');

  const events = rt.call(['events', '--stats', id]);
  t.equal(events.status, 0, `events --stats: ${events.stderr}`);
  const stats = JSON.parse(events.stdout) as { type: string; id: string; data: { pids: { current: number }; memory: unknown } };
  t.match(stats, { type: 'stats', id });
  t.ok(stats.data.pids.current >= 1, 'stats count the container\'s processes');

  t.equal(rt.call(['kill', '--all', id, 'KILL']).status, 0, 'kill --all');
  t.equal(rt.call(['delete', '--force', id]).status, 0, 'delete --force');
  t.notOk(fs.existsSync(`${V1_MEMORY}/${id}`), 'the cgroup is removed');
  t.notOk(fs.existsSync(`/proc/${execPid}`), 'kill --all reached the exec\'d process');
});
