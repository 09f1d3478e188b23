// The -ENOSYS stub (process/seccomp-enosys.ts), without root: what it answers for each
// architecture and number, read by running its classic BPF here. Only the stub is run: a jump
// past its end is "on to libseccomp's filter". The kernel runs the whole program in
// conformance/test/seccomp-enosys.test.ts; this covers what one host cannot call (x32, i386).
import t from 'tap';
import { enosysStub } from '../src/process/seccomp-enosys.js';

const X86_64 = 0xc000003e, X32 = 0x4000003e, I386 = 0x40000003, AARCH64 = 0xc00000b7;
const X32_BIT = 0x40000000;
const ERRNO_EPERM = 0x00050001, ENOSYS = 0x00050026;

/** A libseccomp-like resolver over a small table; negative for what it does not know (or multiplexes). */
const TABLE: Record<number, Record<string, number>> = {
  [X86_64]: { read: 0, rseq: 334, openat2: 437 },
  [X32]: { read: X32_BIT, rseq: X32_BIT + 334 },
  [I386]: { read: 3, socket: -101, rseq: 386 },
};
const resolve = (token: number, name: string): number => TABLE[token]?.[name] ?? -1;

/** Runs the stub on one call: its return value, or 'filter' when it goes on to the profile's filter. */
function answer(stub: Buffer, arch: number, nr: number): number | 'filter' {
  const data = [nr >>> 0, arch >>> 0];
  let acc = 0;
  for (let pc = 0; pc < stub.length / 8; ) {
    const code = stub.readUInt16LE(pc * 8), jt = stub[pc * 8 + 2]!, jf = stub[pc * 8 + 3]!, k = stub.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) { acc = data[k / 4]!; pc++; }
    else if (code === 0x05) pc += 1 + k;
    else if (code === 0x15) pc += 1 + (acc === k ? jt : jf);
    else if (code === 0x25) pc += 1 + (acc > k ? jt : jf);
    else if (code === 0x45) pc += 1 + ((acc & k) !== 0 ? jt : jf);
    else if (code === 0x06) return k;
    else throw new Error(`instruction 0x${code.toString(16)} at ${pc}: not one the stub uses`);
  }
  return 'filter';
}

const NAMES = ['read', 'rseq', 'socket'];

t.test('x86_64: above the last named call ENOSYS, at or below it on to the filter', async (t) => {
  const stub = enosysStub({ defaultAction: ERRNO_EPERM, archTokens: [X86_64], names: NAMES }, resolve);
  t.equal(answer(stub, X86_64, 0), 'filter');
  t.equal(answer(stub, X86_64, 334), 'filter', 'the last named call itself');
  t.equal(answer(stub, X86_64, 335), ENOSYS, 'the next one');
  t.equal(answer(stub, X86_64, 435), ENOSYS, 'clone3');
  t.equal(answer(stub, X86_64, 1000), ENOSYS);
  t.equal(answer(stub, X86_64, X32_BIT + 1000), 'filter', 'x32 calls, x32 not in the profile: left to the filter');
  t.equal(answer(stub, AARCH64, 1000), 'filter', 'an architecture the profile does not list');
});

t.test('x86_64 with x32 and i386: each its own limit', async (t) => {
  const stub = enosysStub({ defaultAction: ERRNO_EPERM, archTokens: [X86_64, X32, I386], names: NAMES }, resolve);
  t.equal(answer(stub, X86_64, 334), 'filter');
  t.equal(answer(stub, X86_64, 335), ENOSYS);
  t.equal(answer(stub, X86_64, X32_BIT + 334), 'filter', 'x32 at its limit');
  t.equal(answer(stub, X86_64, X32_BIT + 335), ENOSYS, 'x32 above it');
  t.equal(answer(stub, I386, 386), 'filter', 'i386 at its limit (socket, multiplexed there, counts for nothing)');
  t.equal(answer(stub, I386, 387), ENOSYS);
});

t.test('only x32 listed: native x86_64 calls go on to the filter', async (t) => {
  const stub = enosysStub({ defaultAction: ERRNO_EPERM, archTokens: [X32], names: NAMES }, resolve);
  t.equal(answer(stub, X86_64, 1000), 'filter');
  t.equal(answer(stub, X86_64, X32_BIT + 1000), ENOSYS);
});

t.test('no stub when the default lets calls through, is ENOSYS already, or nothing named is known', async (t) => {
  for (const [what, action] of [['allow', 0x7fff0000], ['log', 0x7ffc0000], ['trace', 0x7ff00005], ['errno ENOSYS', ENOSYS]] as const) {
    t.equal(enosysStub({ defaultAction: action, archTokens: [X86_64], names: NAMES }, resolve).length, 0, what);
  }
  t.equal(enosysStub({ defaultAction: ERRNO_EPERM, archTokens: [AARCH64], names: NAMES }, resolve).length, 0, 'no name known there');
  t.equal(enosysStub({ defaultAction: ERRNO_EPERM, archTokens: [], names: NAMES }, resolve).length, 0, 'no architecture listed');
  t.not(enosysStub({ defaultAction: 0x80000000, archTokens: [X86_64], names: NAMES }, resolve).length, 0, 'kill: a stub');
});
