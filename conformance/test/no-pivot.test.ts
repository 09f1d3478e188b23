// --no-pivot leaves the host's mounts in the container's mount namespace, under the new root: a
// fully visible proc or sysfs among them would let the container mount a fresh one (runc's
// integration suite: "runc run --no-pivot must not expose bare /proc"). Both runtimes detach them
// before moving the rootfs over "/"; the container keeps its own /proc and /sys.
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId } from '../src/harness.js';

t.test('--no-pivot, with the host\'s proc and sysfs detached: the container\'s own /proc and /sys work, as with runc', async (t) => {
  const bundle = makeBundle(t, baseSpec(['sleep', '60']));
  for (const binary of [undefined, RUNC]) {
    const rt = runtime(t, binary);
    const id = uniqueId('nopivot');
    const run = rt.call(['run', '--detach', '--no-pivot', '--bundle', bundle.dir, id]);
    t.equal(run.status, 0, `${rt.name} run --no-pivot: ${run.stderr}`);
    const inside = rt.call(['exec', id, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; ls /sys/kernel >/dev/null && echo own sys']);
    t.equal(inside.stdout, 'sleep 60 own sys\n', `${rt.name}: the container's own /proc and /sys work: ${inside.stderr}`);
    t.equal(rt.call(['delete', '--force', id]).status, 0);
  }
});
