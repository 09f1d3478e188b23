// linux.memoryPolicy (runtime-spec 1.3): the NUMA policy of the container's process, decided
// here (mode and flags as set_mempolicy(2) numbers, the nodes as a bit mask) and set by the
// process executor with set_mempolicy(2) before it execs; the policy is inherited by every child.
import type { LinuxMemoryPolicy, LinuxMemoryPolicyFlag, LinuxMemoryPolicyMode } from '@tsrunc/spec-schemas';

/** The modes of <linux/mempolicy.h>, as the spec names them. */
export const MEMORY_POLICY_MODES: Record<LinuxMemoryPolicyMode, number> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

/** The mode flags, or'ed into the mode argument. */
export const MEMORY_POLICY_FLAGS: Record<LinuxMemoryPolicyFlag, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};

/** Modes that take no node, and modes that need at least one (MPOL_PREFERRED takes either). */
const NO_NODES = new Set<LinuxMemoryPolicyMode>(['MPOL_DEFAULT', 'MPOL_LOCAL']);
const SOME_NODES = new Set<LinuxMemoryPolicyMode>(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE']);

/** The kernel reads at most a page of mask bits; a node past that can never be valid. */
const MAX_NODE = 4096 * 8 - 1;

export interface MemoryPolicyPlan {
  /** set_mempolicy's mode argument: the mode or'ed with its flags. */
  mode: number;
  /** The node mask as 64-bit words, lowest nodes first; empty for no nodes. */
  nodeMask: bigint[];
}

/** "0-3,7" -> [0, 1, 2, 3, 7]; the empty string is no node. */
export function parseNodeList(text: string): number[] {
  if (text === '') return [];
  const nodes: number[] = [];
  for (const part of text.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) throw new Error(`linux.memoryPolicy.nodes "${text}": "${part}" is not a node number or a range of them (as in "0-3,7")`);
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last < first) throw new Error(`linux.memoryPolicy.nodes "${text}": the range "${part}" ends before it starts`);
    if (last > MAX_NODE) throw new Error(`linux.memoryPolicy.nodes "${text}": node ${last} is beyond the largest node the kernel takes (${MAX_NODE})`);
    for (let node = first; node <= last; node++) nodes.push(node);
  }
  return nodes;
}

export function planMemoryPolicy(policy: LinuxMemoryPolicy): MemoryPolicyPlan {
  const mode = MEMORY_POLICY_MODES[policy.mode];
  if (mode === undefined) throw new Error(`linux.memoryPolicy.mode "${policy.mode}" is not one of ${Object.keys(MEMORY_POLICY_MODES).join(', ')}`);
  const nodes = parseNodeList(policy.nodes ?? '');
  if (NO_NODES.has(policy.mode) && nodes.length > 0) throw new Error(`linux.memoryPolicy: ${policy.mode} takes no nodes, but nodes "${policy.nodes}" were given`);
  if (SOME_NODES.has(policy.mode) && nodes.length === 0) throw new Error(`linux.memoryPolicy: ${policy.mode} needs at least one node in nodes`);
  let flags = 0;
  for (const name of policy.flags ?? []) {
    const flag = MEMORY_POLICY_FLAGS[name];
    if (flag === undefined) throw new Error(`linux.memoryPolicy.flags: "${name}" is not one of ${Object.keys(MEMORY_POLICY_FLAGS).join(', ')}`);
    flags |= flag;
  }
  const nodeSemantics = MEMORY_POLICY_FLAGS.MPOL_F_STATIC_NODES | MEMORY_POLICY_FLAGS.MPOL_F_RELATIVE_NODES;
  if ((flags & nodeSemantics) === nodeSemantics) throw new Error('linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
  const nodeMask: bigint[] = [];
  for (const node of nodes) {
    const word = Math.floor(node / 64);
    while (nodeMask.length <= word) nodeMask.push(0n);
    nodeMask[word]! |= 1n << BigInt(node % 64);
  }
  return { mode: mode | flags, nodeMask };
}
