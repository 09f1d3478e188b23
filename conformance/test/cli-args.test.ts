// runc's command line as its own integration suite drives it, side by side with runc: the
// container's arguments reach it untouched, negative flag values, signal 0, exec's exit code.
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId } from '../src/harness.js';

t.test('exec arguments, flag values and exit codes as runc reads them', async (t) => {
  const spec = baseSpec(['sleep', '300']);
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * 1024 * 1024 } };
  const bundle = makeBundle(t, spec);
  const results = [];
  for (const binary of [undefined, RUNC]) {
    const rt = runtime(t, binary);
    const id = uniqueId('args');
    t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0, `${rt.name} run`);
    const ls = rt.call(['exec', id, 'ls', '-la', '/bin/sh']);
    const help = rt.call(['exec', id, 'sh', '-c', 'echo "$@"', 'sh', '-h', '--help']);
    const missing = rt.call(['exec', id, 'no-such-program']);
    const swap = rt.call(['update', '--memory', '128M', '--memory-swap', '-1', id]);
    const probe = rt.call(['kill', '--all', id, '0']);
    results.push({ name: rt.name, ls: ls.stdout, help: help.stdout, missing: missing.status, swap: swap.status, probe: probe.status });
    t.match(ls.stdout, /^l.* \/bin\/sh -> /, `${rt.name}: ls -la reaches ls as written: ${ls.stderr}`);
    t.equal(help.stdout, '-h --help\n', `${rt.name}: -h and --help after the command are the command's`);
    t.equal(missing.status, 255, `${rt.name}: a failed exec exits 255`);
    t.equal(swap.status, 0, `${rt.name}: --memory-swap -1 is a value: ${swap.stderr}`);
    t.equal(probe.status, 0, `${rt.name}: signal 0 probes: ${probe.stderr}`);
    t.equal(rt.call(['delete', '--force', id]).status, 0);
  }
  const [tsrunc, runc] = results;
  t.same({ ...tsrunc, name: '' }, { ...runc, name: '' }, 'tsrunc and runc agree');
});
