// The six hooks of the runtime-spec: each runs at its moment with the state on stdin; a failing
// prestart hook fails create and leaves nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Hook } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

/** A hook that appends its name and the state's status to `log` (a host path, or a container path for startContainer). */
function recorder(name: string, log: string): Hook {
  return { path: '/bin/sh', args: ['sh', '-c', `read -r state; s=\${state#*\\"status\\":\\"}; echo "${name} \${s%%\\"*}" >> ${log}`] };
}

t.test('every hook runs once, in order, with the state on stdin', async (t) => {
  const spec = baseSpec(['sh', '-c', 'cat /hook-start.log']);
  const bundle = makeBundle(t, spec);
  const log = path.join(bundle.dir, 'hooks.log');
  spec.hooks = {
    prestart: [recorder('prestart', log)],
    createRuntime: [recorder('createRuntime', log)],
    createContainer: [recorder('createContainer', log)],
    startContainer: [recorder('startContainer', '/hook-start.log')],
    poststart: [recorder('poststart', log)],
    poststop: [recorder('poststop', log)],
  };
  bundle.writeConfig(spec);
  const r = runtime(t).call(['run', '--bundle', bundle.dir, uniqueId()]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'startContainer created\n', 'startContainer ran inside the container, before the process');
  t.equal(fs.readFileSync(log, 'utf8'), [
    'prestart creating', 'createRuntime creating', 'createContainer creating', 'poststart running', 'poststop stopped', '',
  ].join('\n'));
});

t.test('a failing prestart hook fails create and leaves no state', async (t) => {
  const spec = baseSpec(['true']);
  spec.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 4'] }] };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId();
  const r = rt.call(['create', '--bundle', bundle.dir, id]);
  t.not(r.status, 0);
  t.match(r.stderr, /prestart/);
  t.notOk(fs.existsSync(path.join(rt.root, id)), 'no state dir');
});

t.test('a hook that outlives its timeout is killed and fails create', async (t) => {
  const spec = baseSpec(['true']);
  spec.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
  const bundle = makeBundle(t, spec);
  const started = Date.now();
  const r = runtime(t).call(['create', '--bundle', bundle.dir, uniqueId()]);
  t.not(r.status, 0);
  t.ok(Date.now() - started < 15_000, 'gave up after the timeout');
});
