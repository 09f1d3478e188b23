// linux.memoryPolicy as planned on the host (no root): the set_mempolicy(2) mode word, the node
// mask, the spec's rules on nodes per mode, and the executor's record of it.
import t from 'tap';
import type { LinuxMemoryPolicy } from '@tsrunc/spec-schemas';
import { defaultSpec } from '../src/container/spec-template.js';
import { parseNodeList, planMemoryPolicy } from '../src/process/memory-policy.js';
import { encodeProcessPlan } from '../src/process/native-plan.js';
import { planProcess } from '../src/process/plan.js';

t.test('node lists: ranges and single nodes; anything else is refused by name', async (t) => {
  t.same(parseNodeList('0-3,7'), [0, 1, 2, 3, 7]);
  t.same(parseNodeList(''), []);
  t.same(parseNodeList('5'), [5]);
  t.throws(() => parseNodeList('0,,1'), /"" is not a node number or a range/);
  t.throws(() => parseNodeList('0-'), /"0-" is not a node number/);
  t.throws(() => parseNodeList('1 ,2'), /"1 " is not a node number/);
  t.throws(() => parseNodeList('-1'), /"-1" is not a node number/);
  t.throws(() => parseNodeList('3-1'), /the range "3-1" ends before it starts/);
  t.throws(() => parseNodeList('40000'), /node 40000 is beyond the largest node/);
});

t.test('modes, flags and the node mask as set_mempolicy takes them', async (t) => {
  t.same(planMemoryPolicy({ mode: 'MPOL_BIND', nodes: '0' }), { mode: 2, nodeMask: [1n] });
  t.same(planMemoryPolicy({ mode: 'MPOL_INTERLEAVE', nodes: '1,64-65', flags: ['MPOL_F_STATIC_NODES'] }), {
    mode: 3 | 0x8000,
    nodeMask: [2n, 3n],
  });
  t.same(planMemoryPolicy({ mode: 'MPOL_PREFERRED' }), { mode: 1, nodeMask: [] }, 'MPOL_PREFERRED without nodes is local allocation');
  t.same(planMemoryPolicy({ mode: 'MPOL_LOCAL' }), { mode: 4, nodeMask: [] });
  t.same(planMemoryPolicy({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }).mode, 2 | 0x2000);
});

t.test('the spec\'s rules: nodes per mode, known names, exclusive flags', async (t) => {
  const plan = (p: Partial<LinuxMemoryPolicy>) => () => planMemoryPolicy(p as LinuxMemoryPolicy);
  t.throws(plan({ mode: 'MPOL_DEFAULT', nodes: '0' }), /MPOL_DEFAULT takes no nodes/);
  t.throws(plan({ mode: 'MPOL_LOCAL', nodes: '0-1' }), /MPOL_LOCAL takes no nodes/);
  t.throws(plan({ mode: 'MPOL_BIND' }), /MPOL_BIND needs at least one node/);
  t.throws(plan({ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '' }), /MPOL_WEIGHTED_INTERLEAVE needs at least one node/);
  t.throws(plan({ mode: 'MPOL_NOPE' as LinuxMemoryPolicy['mode'] }), /mode "MPOL_NOPE" is not one of MPOL_DEFAULT/);
  t.throws(plan({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NODE' as 'MPOL_F_STATIC_NODES'] }), /"MPOL_F_NODE" is not one of/);
  t.throws(plan({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }), /exclude each other/);
});

t.test('the executor record: u32 mode, then the mask words', async (t) => {
  const spec = defaultSpec(false);
  spec.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0,65', flags: ['MPOL_F_RELATIVE_NODES'] };
  const encoded = encodeProcessPlan(planProcess(spec, { preserveFds: 0 }));
  let found: Buffer | undefined;
  for (let off = 4; off < encoded.length;) {
    const tag = encoded.readUInt32LE(off), size = encoded.readUInt32LE(off + 4);
    if (tag === 21) found = encoded.subarray(off + 8, off + 8 + size);
    off += 8 + size;
  }
  t.ok(found, 'the plan has a memory policy record');
  t.equal(found!.length, 4 + 16);
  t.equal(found!.readUInt32LE(0), 2 | 0x4000);
  t.equal(found!.readBigUInt64LE(4), 1n);
  t.equal(found!.readBigUInt64LE(12), 2n);
  t.notOk(encodeProcessPlan(planProcess(defaultSpec(false), { preserveFds: 0 })).includes(Buffer.from([21, 0, 0, 0, 4, 0, 0, 0])), 'no record without a policy');
});
