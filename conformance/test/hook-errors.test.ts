// A failing hook is reported in runc's words ("error running hook: exit status 3", "signal: bad
// system call", "hook ran past specified timeout of 1.0s"), which callers and runc's own tests
// match, and tsrunc still says which hook failed: its phase, index and path.
import t from 'tap';
import type { Hook, Spec } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId } from '../src/harness.js';

type Phase = 'prestart' | 'createContainer' | 'startContainer';

interface Case {
  what: string;
  phase: Phase;
  hook: Hook;
  edit?: (spec: Spec) => void;
  /** What both runtimes print. */
  words: RegExp;
}

const CASES: Case[] = [
  {
    what: 'a startContainer hook killed by SIGSYS (the container\'s seccomp filter)',
    phase: 'startContainer',
    hook: { path: '/bin/sh', args: ['sh', '-c', 'mkdir /dev/shm/foo'] },
    edit: (s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] };
    },
    words: /error running hook: signal: bad system call/,
  },
  {
    what: 'a prestart hook killed by SIGTERM',
    phase: 'prestart',
    hook: { path: '/bin/sh', args: ['sh', '-c', 'kill -TERM $$'] },
    words: /error running hook: signal: terminated/,
  },
  {
    what: 'a createContainer hook that exits 3 after writing to stderr',
    phase: 'createContainer',
    hook: { path: '/bin/sh', args: ['sh', '-c', 'echo oops >&2; exit 3'] },
    words: /error running hook: exit status 3, .*stderr: oops/,
  },
  {
    what: 'a prestart hook past its timeout',
    phase: 'prestart',
    hook: { path: '/bin/sh', args: ['sh', '-c', 'sleep 5'], timeout: 1 },
    words: /hook ran past specified timeout of 1\.0s/,
  },
];

for (const c of CASES) {
  t.test(`${c.what}: runc's words, and which hook`, async (t) => {
    const spec = baseSpec(['true']);
    spec.hooks = { [c.phase]: [c.hook] };
    c.edit?.(spec);
    const bundle = makeBundle(t, spec);
    for (const binary of [undefined, RUNC]) {
      const rt = runtime(t, binary);
      const id = uniqueId('hookerr');
      const run = rt.call(['run', '--bundle', bundle.dir, id]);
      t.not(run.status, 0, `${rt.name} run fails`);
      t.match(run.stderr, c.words, `${rt.name}: ${c.words.source}`);
      if (binary === undefined) t.match(run.stderr, `${c.phase} hook #0 (${c.hook.path})`, 'tsrunc names the hook');
      t.same(rt.call(['list', '-q']).stdout.trim(), '', `${rt.name} leaves no container`);
    }
  });
}
