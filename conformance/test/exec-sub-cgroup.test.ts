// exec --cgroup joins existing sub-cgroups of the container's cgroup, with runc's rules: never a
// path out of it (".."), a missing one fails naming its cgroup.procs, a controller must be one
// of the container's; the host's cgroups outside the container's stay as they were.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

const v1 = fs.existsSync('/sys/fs/cgroup/memory/cgroup.procs');

t.test('exec --cgroup: sub-cgroups only, as runc', async (t) => {
  const rt = runtime(t);
  const id = uniqueId('sub');
  const run = rt.call(['run', '-d', '--bundle', makeBundle(t, baseSpec(['sleep', '1000'])).dir, id]);
  t.equal(run.status, 0, run.stderr);
  t.teardown(() => { rt.call(['delete', '--force', id]); });
  const record = JSON.parse(fs.readFileSync(path.join(rt.root, id, 'state.json'), 'utf8')) as { cgroup: { paths: Record<string, string> } };
  const own = v1 ? record.cgroup.paths['memory']! : record.cgroup.paths['unified']!;
  const parentProcs = fs.readFileSync(path.join(path.dirname(own), 'cgroup.procs'), 'utf8');

  const up = rt.call(['exec', '--cgroup', '..', id, 'true']);
  t.not(up.status, 0, 'the parent cgroup is refused');
  t.match(up.stderr, /exec failed: \.\. is not a sub cgroup path/);
  t.equal(fs.readFileSync(path.join(path.dirname(own), 'cgroup.procs'), 'utf8'), parentProcs, 'and no process joined it');
  t.match(rt.call(['exec', '--cgroup', 'a/../../b', id, 'true']).stderr, /is not a sub cgroup path/, 'nor a path climbing out through a sub-cgroup');

  const missing = rt.call(['exec', '--cgroup', 'nonexistent', id, 'true']);
  t.not(missing.status, 0, 'a missing sub-cgroup fails');
  t.match(missing.stderr, /adding pid \d+ to cgroups: \S+\/nonexistent\/cgroup\.procs: no such file or directory/);
  t.match(rt.call(['exec', '--cgroup', 'whaaat:/', id, 'true']).stderr, /unknown controller whaaat/);
  t.match(rt.call(['exec', '--cgroup', 'a:b:c', id, 'true']).stderr, /invalid --cgroup argument: a:b:c/);

  const sub = path.join(own, 'sub');
  fs.mkdirSync(sub);
  const joined = rt.call(['exec', '--cgroup', v1 ? 'memory:sub' : 'sub', id, 'cat', '/proc/self/cgroup']);
  t.equal(joined.status, 0, joined.stderr);
  t.match(joined.stdout, v1 ? /:memory:\S*\/sub$/m : /^0::\S*\/sub$/m, 'the process is in the sub-cgroup');
  const root = rt.call(['exec', '--cgroup', '/', id, 'cat', '/proc/self/cgroup']);
  t.equal(root.status, 0, '"/" is the container\'s cgroup itself');
  t.notMatch(root.stdout, /\/sub$/m);
});
