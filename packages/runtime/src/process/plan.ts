// What the init or exec stage does to become the container's process, decided from config.json
// on the host: every error of process (or linux.seccomp) surfaces before a container exists.
import type { Spec } from '@tsrunc/spec-schemas';
import { capabilityNumbers, hostLastCap, type CapabilityPlan } from './capabilities.js';
import { checkSecurityModules } from './lsm.js';
import { planMemoryPolicy, type MemoryPolicyPlan } from './memory-policy.js';
import { planRlimits, type RlimitPlan } from './rlimits.js';
import { planIoPriority, planScheduler, type SchedulerPlan } from './scheduling.js';
import { planSeccomp, type SeccompPlan } from './seccomp.js';

const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;

export interface ProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask: number;
  rlimits: RlimitPlan[];
  /** Absent: the capabilities are left as they are, as runc leaves them. */
  capabilities?: CapabilityPlan;
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  scheduler?: SchedulerPlan;
  /** The ioprio_set(2) value. */
  ioPriority?: number;
  seccomp?: SeccompPlan;
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** personality(2) persona: linux.personality's domain (flags are not supported). */
  personality?: number;
  /** linux.memoryPolicy, for set_mempolicy(2). */
  memoryPolicy?: MemoryPolicyPlan;
  /** --preserve-fds: this many fds, found in the stage from `preservedFdBase` on, become 3, 4, ... */
  preserveFds: number;
  preservedFdBase: number;
}

export function planProcess(spec: Spec, options: { preserveFds: number; preservedFdBase?: number }): ProcessPlan {
  const p = spec.process;
  if (!p) throw new Error('config.json: process is required');
  if (!p.args || p.args.length === 0) throw new Error('process.args must not be empty');
  if (!p.cwd.startsWith('/')) throw new Error(`process.cwd "${p.cwd}" must be an absolute path`);
  checkSecurityModules(p.apparmorProfile, p.selinuxLabel);
  let capabilities: CapabilityPlan | undefined;
  if (p.capabilities) {
    const lastCap = hostLastCap();
    const c = p.capabilities;
    capabilities = {
      bounding: capabilityNumbers(c.bounding, lastCap, 'bounding'),
      effective: capabilityNumbers(c.effective, lastCap, 'effective'),
      permitted: capabilityNumbers(c.permitted, lastCap, 'permitted'),
      inheritable: capabilityNumbers(c.inheritable, lastCap, 'inheritable'),
      ambient: capabilityNumbers(c.ambient, lastCap, 'ambient'),
      lastCap,
    };
  }
  const persona = spec.linux?.personality;
  if (persona?.flags?.length) throw new Error('linux.personality.flags are not supported yet');
  return {
    ...(persona ? { personality: persona.domain === 'LINUX32' ? PER_LINUX32 : PER_LINUX } : {}),
    args: p.args,
    env: p.env ?? [],
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    umask: p.user.umask ?? 0o022,
    rlimits: planRlimits(p.rlimits),
    ...(capabilities ? { capabilities } : {}),
    noNewPrivileges: p.noNewPrivileges === true,
    ...(p.oomScoreAdj !== undefined ? { oomScoreAdj: p.oomScoreAdj } : {}),
    ...(p.scheduler ? { scheduler: planScheduler(p.scheduler) } : {}),
    ...(p.ioPriority ? { ioPriority: planIoPriority(p.ioPriority) } : {}),
    ...(spec.linux?.seccomp ? { seccomp: planSeccomp(spec.linux.seccomp) } : {}),
    ...(spec.linux?.memoryPolicy ? { memoryPolicy: planMemoryPolicy(spec.linux.memoryPolicy) } : {}),
    ...(p.apparmorProfile ? { apparmorProfile: p.apparmorProfile } : {}),
    ...(p.selinuxLabel ? { selinuxLabel: p.selinuxLabel } : {}),
    preserveFds: options.preserveFds,
    preservedFdBase: options.preservedFdBase ?? 4,
  };
}
