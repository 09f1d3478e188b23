// Managing a running container from the command line: resources from config.json in the kernel's
// files, exec, ps, pause/resume, update, events --stats, kill --all; checked on the host's cgroups,
// v1 or v2 (conformance/vm runs this suite on a cgroup2-only guest too).
import fs from 'node:fs';
import t from 'tap';
import { cgroupDir, cgroupV2, frozen, memoryLimit, missingControllers, pidsLimit, procs } from '../src/cgroup-files.js';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

const MiB = 1024 * 1024;

t.test(`exec, ps, pause/resume, update, events, kill --all on a running container (cgroup v${cgroupV2 ? 2 : 1})`, { skip: missingControllers() }, async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 20 } };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId();
  const run = rt.call(['run', '--detach', '--bundle', bundle.dir, id]);
  t.equal(run.status, 0, `run --detach: ${run.stderr}`);
  const initPid = (JSON.parse(rt.call(['state', id]).stdout) as { pid: number }).pid;
  const memory = cgroupDir(initPid, 'memory');
  const pids = cgroupDir(initPid, 'pids');
  t.match(memory, new RegExp(`/${id}$`), 'the cgroup is named after the container');
  t.equal(memoryLimit(memory), String(64 * MiB), 'memory limit in the kernel');
  t.equal(pidsLimit(pids), '20', 'pids limit in the kernel');

  const exec = rt.call(['exec', id, 'sh', '-c', 'echo $$; cat /proc/1/cmdline']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  t.match(exec.stdout, /^\d+\nsleep\x00300\x00$/, 'exec joins the pid namespace');
  const pidFile = `${bundle.dir}/exec.pid`;
  t.equal(rt.call(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '200']).status, 0, 'exec --detach');
  const execPid = fs.readFileSync(pidFile, 'utf8').trim();
  t.ok(procs(memory).includes(execPid), 'the exec\'d process is in the container\'s cgroup');
  const failing = rt.call(['exec', id, 'sh', '-c', 'exit 5']);
  t.equal(failing.status, 5, 'exec exits with the process status');

  const ps = JSON.parse(rt.call(['ps', '--format', 'json', id]).stdout) as number[];
  t.equal(ps.length, 2, 'ps lists the init and the exec\'d process');

  t.equal(rt.call(['pause', id]).status, 0, 'pause');
  t.match(rt.call(['state', id]).stdout, /"status": "paused"/);
  t.ok(frozen(cgroupDir(initPid, 'freezer')), 'the kernel says frozen');
  t.equal(rt.call(['resume', id]).status, 0, 'resume');
  t.match(rt.call(['state', id]).stdout, /"status": "running"/);
  t.notOk(frozen(cgroupDir(initPid, 'freezer')), 'and thawed');

  t.equal(rt.call(['update', '--memory', '128M', '--pids-limit', '30', id]).status, 0, 'update');
  t.equal(memoryLimit(memory), String(128 * MiB), 'updated memory limit');
  t.equal(pidsLimit(pids), '30', 'updated pids limit');

  const events = rt.call(['events', '--stats', id]);
  t.equal(events.status, 0, `events --stats: ${events.stderr}`);
  const stats = JSON.parse(events.stdout) as { type: string; id: string; data: { pids: { current: number }; memory: { usage: { limit: number } } } };
  t.match(stats, { type: 'stats', id });
  t.ok(stats.data.pids.current >= 1, 'stats count the container\'s processes');
  t.equal(stats.data.memory.usage.limit, 128 * MiB, 'stats report the memory limit');

  t.equal(rt.call(['kill', '--all', id, 'KILL']).status, 0, 'kill --all');
  t.equal(rt.call(['delete', '--force', id]).status, 0, 'delete --force');
  t.notOk(fs.existsSync(memory), 'the cgroup is removed');
  t.notOk(fs.existsSync(`/proc/${execPid}`), 'kill --all reached the exec\'d process');
});
