// The -ENOSYS stub runc puts before a profile's filter: a system call newer than every one the
// profile names (for its architecture) fails with ENOSYS instead of the profile's default action.
// A profile written before clone3 or openat2 existed would otherwise answer them EPERM, and the C
// library, which falls back to the older call only on ENOSYS (clone3 -> clone), would fail.
// The rule is runc's (libcontainer/seccomp/patchbpf): per architecture, the largest number of
// the profile's syscalls as libseccomp resolves them; no stub when the default action lets calls
// through (allow, log, trace) or already is ENOSYS.

/** seccomp's return for ERRNO(ENOSYS). */
const RET_ENOSYS = 0x00050000 | 38;

/** The default actions the stub leaves alone: allow, log, trace (any errno). */
function letsCallsThrough(defaultAction: number): boolean {
  return defaultAction === 0x7fff0000 || defaultAction === 0x7ffc0000 || (defaultAction & 0xffff0000) === 0x7ff00000;
}

/** libseccomp's architecture tokens are the kernel's AUDIT_ARCH values, but for x32: its calls come as x86_64 with this bit set. */
const ARCH_X86_64 = 0xc000003e;
const ARCH_X32 = 0x4000003e;
const X32_SYSCALL_BIT = 0x40000000;
/** s390 and s390x: syscall 0 multiplexes the calls whose number does not fit the instruction. */
const ARCH_S390 = [0x00000016, 0x80000016];

/** An architecture as the stub checks it: the kernel's AUDIT_ARCH, and the largest named number per libseccomp arch. */
interface ArchLimit {
  auditArch: number;
  /** libseccomp token -> largest syscall number of the profile. */
  largest: Map<number, number>;
}

/**
 * `archTokens`: the profile's architectures as libseccomp tokens; `resolve(token, name)` the
 * syscall's number there (negative when libseccomp does not know it, or multiplexes it).
 */
function archLimits(archTokens: number[], names: string[], resolve: (token: number, name: string) => number): ArchLimit[] {
  const limits = new Map<number, ArchLimit>();
  for (const token of archTokens) {
    const auditArch = token === ARCH_X32 ? ARCH_X86_64 : token;
    const largest = Math.max(0, ...names.map((name) => resolve(token, name)));
    if (largest === 0) continue; // the profile names nothing libseccomp knows there: no limit, as runc
    const limit = limits.get(auditArch) ?? { auditArch, largest: new Map() };
    limit.largest.set(token, largest);
    limits.set(auditArch, limit);
  }
  return [...limits.values()];
}

// Classic BPF, as seccomp runs it (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k).
const LD_ABS_W = 0x20, JA = 0x05, JEQ = 0x15, JGT = 0x25, JSET = 0x45, RET = 0x06;
/** struct seccomp_data: nr at 0, arch at 4. */
const NR = 0, ARCH = 4;

type Label = 'enosys' | 'filter' | `arch${number}` | `x32_${number}`;
/** One instruction; a conditional jump's targets are labels or 0 (the next instruction). */
type Insn =
  | { code: typeof LD_ABS_W | typeof RET; k: number }
  | { code: typeof JA; to: Label }
  | { code: typeof JEQ | typeof JGT | typeof JSET; k: number; ifTrue: Label; ifFalse: Label | 0 };

/**
 * Conditional jumps reach at most 255 instructions ahead: each is emitted as `jcc k, 0, 1`
 * followed by `ja` instructions (32-bit offsets), so that any stub assembles whatever its length.
 */
function assemble(program: Insn[], labels: Map<Label, number>): Buffer {
  const lowered: { code: number; jt: number; jf: number; k: number | Label }[] = [];
  const where = new Map<Label, number>();
  for (const [index, insn] of program.entries()) {
    for (const [label, at] of labels) if (at === index) where.set(label, lowered.length);
    if (insn.code === JA) lowered.push({ code: JA, jt: 0, jf: 0, k: insn.to });
    else if (insn.code === JEQ || insn.code === JGT || insn.code === JSET) {
      const elseJumps = insn.ifFalse === 0 ? 0 : 1;
      lowered.push({ code: insn.code, jt: 0, jf: 1, k: insn.k });
      lowered.push({ code: JA, jt: 0, jf: 0, k: insn.ifTrue });
      if (elseJumps) lowered.push({ code: JA, jt: 0, jf: 0, k: insn.ifFalse as Label });
    } else lowered.push({ code: insn.code, jt: 0, jf: 0, k: insn.k });
  }
  for (const [label, at] of labels) if (at === program.length) where.set(label, lowered.length);
  const out = Buffer.alloc(8 * lowered.length);
  lowered.forEach((insn, i) => {
    const k = typeof insn.k === 'number' ? insn.k : where.get(insn.k)! - (i + 1);
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}

/** The checks of one AUDIT_ARCH, starting with the syscall number loaded; ends jumping to the filter. */
function archSection(limit: ArchLimit, index: number): { insns: Insn[]; x32At?: number } {
  const insns: Insn[] = [{ code: LD_ABS_W, k: NR }];
  if (ARCH_S390.includes(limit.auditArch)) insns.push({ code: JEQ, k: 0, ifTrue: 'enosys', ifFalse: 0 });
  if (limit.auditArch !== ARCH_X86_64) {
    const [largest] = limit.largest.values();
    insns.push({ code: JGT, k: largest!, ifTrue: 'enosys', ifFalse: 'filter' });
    return { insns };
  }
  // x86_64 and x32 share the AUDIT_ARCH: the number's x32 bit tells them apart.
  const x86_64 = limit.largest.get(ARCH_X86_64);
  const x32 = limit.largest.get(ARCH_X32);
  insns.push({ code: JSET, k: X32_SYSCALL_BIT, ifTrue: x32 === undefined ? 'filter' : `x32_${index}`, ifFalse: 0 });
  insns.push(x86_64 === undefined ? { code: JA, to: 'filter' } : { code: JGT, k: x86_64, ifTrue: 'enosys', ifFalse: 'filter' });
  if (x32 === undefined) return { insns };
  const x32At = insns.length;
  insns.push({ code: JGT, k: x32, ifTrue: 'enosys', ifFalse: 'filter' });
  return { insns, x32At };
}

/**
 * The stub to prepend to libseccomp's program (empty when none applies): it falls through to
 * the program, which starts right after it, for every call it does not answer ENOSYS.
 */
export function enosysStub(
  profile: { defaultAction: number; archTokens: number[]; names: string[] },
  resolve: (token: number, name: string) => number,
): Buffer {
  if (letsCallsThrough(profile.defaultAction) || profile.defaultAction === RET_ENOSYS) return Buffer.alloc(0);
  const limits = archLimits(profile.archTokens, profile.names, resolve);
  if (limits.length === 0) return Buffer.alloc(0);
  const program: Insn[] = [{ code: LD_ABS_W, k: ARCH }];
  const labels = new Map<Label, number>();
  for (const [i, limit] of limits.entries()) program.push({ code: JEQ, k: limit.auditArch, ifTrue: `arch${i}`, ifFalse: 0 });
  program.push({ code: JA, to: 'filter' });
  for (const [i, limit] of limits.entries()) {
    const section = archSection(limit, i);
    labels.set(`arch${i}`, program.length);
    if (section.x32At !== undefined) labels.set(`x32_${i}`, program.length + section.x32At);
    program.push(...section.insns);
  }
  labels.set('enosys', program.length);
  program.push({ code: RET, k: RET_ENOSYS });
  labels.set('filter', program.length);
  return assemble(program, labels);
}
