// A seccomp profile older than the kernel: system calls newer than every one it names get ENOSYS,
// not its default action, so that the C library falls back (clone3 -> clone) as on an older
// kernel. runc prepends that check to the filter (patchbpf); tsrunc must answer the same.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxSeccomp } from '@tsrunc/spec-schemas';
import t, { type Test } from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId } from '../src/harness.js';

/** Prints each call's result as "name=errno" (0 when it succeeded), through syscall(2) so that libc hides nothing. */
const PROGRAM = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static void try(const char *name, long nr) {
  errno = 0;
  long r = syscall(nr, 0, 0, 0, 0, 0);
  printf("%s=%d ", name, r < 0 ? errno : 0);
}
int main(void) {
  try("unknown1000", 1000);
  try("clone3", SYS_clone3);
  try("kcmp", SYS_kcmp);
  try("getpid", SYS_getpid);
  printf("\\n");
  return 0;
}
`;

/** A profile written for Linux 4.18's calls (x86_64 numbers up to rseq, 334), all allowed but kcmp; EPERM for the rest. */
function oldProfileNames(): string[] {
  const header = fs.readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
  const names: string[] = [];
  for (const [, name, nr] of header.matchAll(/^#define __NR_(\w+) (\d+)$/gm)) {
    if (Number(nr) <= 334 && name !== 'kcmp') names.push(name!);
  }
  return names;
}

/** A bundle running the program above, built static into its rootfs, under `seccomp`. */
function programBundle(t: Test, seccomp: LinuxSeccomp): string {
  const spec = baseSpec(['/enosys-test']);
  spec.linux!.seccomp = seccomp;
  const bundle = makeBundle(t, spec);
  const source = path.join(bundle.dir, 'enosys-test.c');
  fs.writeFileSync(source, PROGRAM);
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', path.join(bundle.rootfs, 'enosys-test'), source], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  return bundle.dir;
}

/** Runs the bundle with tsrunc and runc: each must print `expected`. */
function expectBoth(t: Test, bundle: string, expected: string, what: string): void {
  for (const binary of [undefined, RUNC]) {
    const rt = runtime(t, binary);
    const run = rt.call(['run', '--bundle', bundle, uniqueId('enosys')]);
    t.equal(run.status, 0, `${rt.name} run: ${run.stderr}`);
    t.equal(run.stdout, expected, `${rt.name}: ${what}`);
  }
}

t.test('calls newer than the profile get ENOSYS; unnamed older ones the default action (as runc)', async (t) => {
  const bundle = programBundle(t, {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: oldProfileNames(), action: 'SCMP_ACT_ALLOW' }],
  });
  // ENOSYS is 38, EPERM 1: clone3 (435) and 1000 are above rseq, kcmp (312) is below and unnamed.
  expectBoth(t, bundle, 'unknown1000=38 clone3=38 kcmp=1 getpid=0 \n', "ENOSYS above the profile's last call, EPERM below");
});

t.test('a default action that lets calls through gets no stub: a newer call meets the kernel (as runc)', async (t) => {
  const bundle = programBundle(t, {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['kcmp'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  });
  // clone3 with no arguments: EINVAL (22) from the kernel itself, not ENOSYS from a stub.
  expectBoth(t, bundle, 'unknown1000=38 clone3=22 kcmp=1 getpid=0 \n', 'clone3 reaches the kernel');
});
