// The process executor's own last system calls run under the container's seccomp filter (loaded
// before the user switch without no_new_privs, as runc loads it): a profile that refuses one of
// them must not break the container. runtime-tools' profiles refuse close_range.
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId } from '../src/harness.js';

for (const noNewPrivileges of [false, true]) {
  t.test(`a profile that refuses close_range (noNewPrivileges: ${noNewPrivileges}): run and exec work as with runc`, async (t) => {
    const spec = baseSpec(['sh', '-c', 'echo started; sleep 30']);
    spec.process!.noNewPrivileges = noNewPrivileges;
    spec.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['close_range'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    const bundle = makeBundle(t, spec);
    for (const binary of [undefined, RUNC]) {
      const rt = runtime(t, binary);
      const id = uniqueId('seccomp');
      const run = rt.call(['run', '--detach', '--bundle', bundle.dir, id]);
      t.equal(run.status, 0, `${rt.name} run --detach: ${run.stderr}`);
      const exec = rt.call(['exec', id, 'sh', '-c', 'echo exec ran']);
      t.equal(exec.status, 0, `${rt.name} exec: ${exec.stderr}`);
      t.equal(exec.stdout, 'exec ran\n', `${rt.name}: the exec'd process ran`);
      const state = JSON.parse(rt.call(['state', id]).stdout) as { status: string };
      t.equal(state.status, 'running', `${rt.name}: the container's process runs`);
      t.equal(rt.call(['delete', '--force', id]).status, 0);
    }
  });
}
