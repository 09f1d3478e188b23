// A container's program starts with every signal at its default disposition, as under runc: none of
// the signals the runtime's engine ignores (Node and Bun ignore SIGPIPE and SIGXFSZ), nor those its
// caller ignored, so that `producer | head` ends the producer with SIGPIPE as on any host.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, TSRUNC, uniqueId } from '../src/harness.js';

const DEFAULTS = 'SigIgn:\t0000000000000000\n';

t.test('run and exec start the program with no signal ignored, even when the caller ignores some', async (t) => {
  const bundle = makeBundle(t, baseSpec(['grep', 'SigIgn', '/proc/self/status']));
  const sleeper = makeBundle(t, baseSpec(['sleep', '100']));
  for (const binary of [TSRUNC, RUNC]) {
    const rt = runtime(t, binary);
    // As a caller that ignores SIGPIPE and SIGHUP would start it (e.g. under nohup).
    const run = spawnSync('env', ['--ignore-signal=PIPE,HUP,XFSZ', binary, '--root', rt.root, 'run', '--bundle', bundle.dir, uniqueId()], { encoding: 'utf8' });
    t.equal(run.status, 0, `${rt.name} run: ${run.stderr}`);
    t.equal(run.stdout, DEFAULTS, `${rt.name}: run`);
    const id = uniqueId();
    t.equal(rt.call(['run', '--detach', '--bundle', sleeper.dir, id]).status, 0, `${rt.name}: run --detach`);
    const exec = rt.call(['exec', id, 'grep', 'SigIgn', '/proc/self/status']);
    t.equal(exec.stdout, DEFAULTS, `${rt.name}: exec (${exec.stderr})`);
  }
});
