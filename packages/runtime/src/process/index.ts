// The last steps of the init or exec stage: the process' security settings, applied in the order
// that keeps each step possible (limits and filters needing privileges first, the uid change
// with its capabilities next), then execve. The thread that runs this is the one that execs, so
// per-thread settings (capabilities, no_new_privs, the seccomp filter) reach the program.
import fs from 'node:fs';
import { libc, check } from '../sys/libc.js';
import { closeOnExecFrom, makeBlocking, moveFd } from '../sys/fd.js';
import { applyCapabilitySets, dropBoundingSet } from './capabilities.js';
import { findExecutable } from './executable.js';
import { applySecurityModules } from './lsm.js';
import type { ProcessPlan } from './plan.js';
import { applyRlimits } from './rlimits.js';
import { applyIoPriority, applyScheduler } from './scheduling.js';
import { loadLibseccomp, loadSeccompFilter } from './seccomp.js';

export { planProcess, type ProcessPlan } from './plan.js';
export { findExecutable } from './executable.js';

const prctl = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const setgroups = libc.func('int setgroups(size_t size, const uint32_t *list)');
const setresgid = libc.func('int setresgid(uint32_t r, uint32_t e, uint32_t s)');
const setresuid = libc.func('int setresuid(uint32_t r, uint32_t e, uint32_t s)');
const umask = libc.func('uint32_t umask(uint32_t mask)');
const personality = libc.func('int personality(unsigned long persona)');
const execve = libc.func('int execve(const char *path, const char **argv, const char **envp)');
const PR_SET_KEEPCAPS = 8;
const PR_SET_NO_NEW_PRIVS = 38;

/** What must be loaded from the host before the stage enters the container's filesystem. */
export function prepareProcess(plan: ProcessPlan): void {
  if (plan.seccomp) loadLibseccomp();
}

function switchUser(plan: ProcessPlan): void {
  // Keep the permitted set across the uid change; the wanted sets are applied right after.
  check(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) as number, 'prctl(PR_SET_KEEPCAPS)');
  check(setgroups(plan.additionalGids.length, plan.additionalGids.length ? plan.additionalGids : null) as number, 'setgroups');
  check(setresgid(plan.gid, plan.gid, plan.gid) as number, `setgid ${plan.gid}`);
  check(setresuid(plan.uid, plan.uid, plan.uid) as number, `setuid ${plan.uid}`);
  check(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) as number, 'prctl(PR_SET_KEEPCAPS)');
}

/** --preserve-fds: the caller's fds become 3, 4, ... in the program; every other fd is closed at execve. */
function arrangeFds(plan: ProcessPlan): void {
  for (let i = 0; i < plan.preserveFds; i++) moveFd(plan.preservedFdBase + i, 3 + i);
  closeOnExecFrom(3 + plan.preserveFds);
  // Node marks the stdio it was started with close-on-exec; the program must get it.
  for (const fd of [0, 1, 2]) {
    moveFd(fd, fd);
    makeBlocking(fd);
  }
}

function tryChdir(dir: string): NodeJS.ErrnoException | undefined {
  try {
    process.chdir(dir);
    return undefined;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

export function execProcess(plan: ProcessPlan, executable = findExecutable(plan.args[0]!, plan.env, plan.cwd)): never {
  if (plan.oomScoreAdj !== undefined) fs.writeFileSync('/proc/self/oom_score_adj', String(plan.oomScoreAdj));
  applyRlimits(plan.rlimits);
  // Before the capabilities are dropped: a real-time policy or a higher priority needs CAP_SYS_NICE.
  if (plan.scheduler) applyScheduler(plan.scheduler);
  if (plan.ioPriority !== undefined) applyIoPriority(plan.ioPriority);
  if (plan.personality !== undefined) check(personality(plan.personality) as number, 'personality');
  applySecurityModules(plan.apparmorProfile, plan.selinuxLabel);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have it.
  if (plan.seccomp && !plan.noNewPrivileges) loadSeccompFilter(plan.seccomp);
  // As root first: a cwd the user may use but not reach through its parents still works (as in runc).
  const chdirError = tryChdir(plan.cwd);
  if (chdirError && chdirError.code !== 'EACCES') throw chdirError;
  if (plan.capabilities) dropBoundingSet(plan.capabilities);
  switchUser(plan);
  if (plan.capabilities) applyCapabilitySets(plan.capabilities);
  umask(plan.umask);
  if (chdirError) process.chdir(plan.cwd);
  if (plan.noNewPrivileges) check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as number, 'prctl(PR_SET_NO_NEW_PRIVS)');
  // Last, so that as few system calls as possible run under the container's filter.
  if (plan.seccomp && plan.noNewPrivileges) loadSeccompFilter(plan.seccomp);
  arrangeFds(plan);
  check(execve(executable, [...plan.args, null], [...plan.env, null]) as number, `exec ${JSON.stringify(plan.args[0])}`);
  throw new Error('execve returned without an error');
}
