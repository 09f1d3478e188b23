// kill --all on a stopped container signals what is left in its cgroup, as runc's does
// (kill.bats sends signal 0 after the init died); a plain kill still needs the init alive.
import t from 'tap';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('kill --all of a stopped container exits 0, a plain kill is refused', async (t) => {
  const rt = runtime(t);
  const id = uniqueId('kst');
  const spec = baseSpec(['sleep', '1000']);
  const run = rt.call(['run', '-d', '--bundle', makeBundle(t, spec).dir, id]);
  t.equal(run.status, 0, run.stderr);
  t.equal(rt.call(['kill', id, 'KILL']).status, 0);
  let status = '';
  for (let i = 0; i < 100 && status !== 'stopped'; i++, await sleep(50)) status = JSON.parse(rt.call(['state', id]).stdout).status;
  t.equal(status, 'stopped', 'the container stops');
  const all = rt.call(['kill', '-a', id, '0']);
  t.equal(all.status, 0, `kill -a ${id} 0 ${all.stderr}`);
  const plain = rt.call(['kill', id, '0']);
  t.not(plain.status, 0, 'a plain kill of a stopped container fails');
  t.match(plain.stderr, /not running/);
  t.equal(rt.call(['delete', id]).status, 0, 'delete of the stopped container');
});
