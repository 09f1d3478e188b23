// linux.seccomp through libseccomp: the plan checks the spec's names; the filter is compiled to a
// BPF program here, on the host, and the native process executor loads it as it is (seccomp(2)),
// so that no library of the host is ever needed inside the container.
import fs from 'node:fs';
import { check, koffi, libc } from '../sys/libc.js';
import type { LinuxSeccomp } from '@tsrunc/spec-schemas';
import { enosysStub } from './seccomp-enosys.js';

export interface SeccompRule {
  name: string;
  action: number;
  args: { index: number; op: number; value: string; valueTwo: string }[];
}

export interface SeccompPlan {
  defaultAction: number;
  architectures: string[];
  flags: string[];
  rules: SeccompRule[];
  /** SCMP_ACT_NOTIFY rules: the filter's listener goes to the agent listening on this socket. */
  listener?: { path: string; metadata: string };
}

const EPERM = 1;
const ACTIONS: Record<string, (ret?: number) => number> = {
  SCMP_ACT_KILL: () => 0x00000000,
  SCMP_ACT_KILL_THREAD: () => 0x00000000,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_ERRNO: (ret = EPERM) => 0x00050000 | (ret & 0xffff),
  SCMP_ACT_TRACE: (ret = EPERM) => 0x7ff00000 | (ret & 0xffff),
  SCMP_ACT_NOTIFY: () => 0x7fc00000,
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_ALLOW: () => 0x7fff0000,
};

const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};

/** Filter flags as seccomp(SECCOMP_SET_MODE_FILTER) takes them. */
const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};
/** Not a flag of the spec's: set when a rule notifies, seccomp(2) then returns the listener's fd. */
const FLAG_NEW_LISTENER = 8;
const ATTR_NO_NEW_PRIVS = 3;

export const SECCOMP_ACTIONS = [...Object.keys(ACTIONS)];
export const SECCOMP_OPERATORS = Object.keys(OPERATORS);
export const SECCOMP_FLAGS = Object.keys(FILTER_FLAGS);

function action(name: string, ret: number | undefined): number {
  const make = ACTIONS[name];
  if (!make) throw new Error(`seccomp: unknown action "${name}"`);
  return make(ret) >>> 0;
}

/** "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
function archName(arch: string): string {
  return arch.replace(/^SCMP_ARCH_/, '').toLowerCase();
}

/**
 * SCMP_ACT_NOTIFY as runc 1.1.5 allows it. The executor names the listener's fd to tsrunc with
 * write(2) and waits for tsrunc to have handed it to the agent: a notified write would wait for an
 * agent that never gets the fd. The default action would notify write too.
 */
function checkNotify(seccomp: LinuxSeccomp): SeccompPlan['listener'] {
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') throw new Error('seccomp: SCMP_ACT_NOTIFY cannot be used as default action');
  const notified = (seccomp.syscalls ?? []).filter((s) => s.action === 'SCMP_ACT_NOTIFY');
  if (notified.length === 0) return undefined; // listenerPath is ignored then (runtime-spec)
  if (notified.some((s) => s.names.includes('write'))) throw new Error('seccomp: SCMP_ACT_NOTIFY cannot be used for the write syscall');
  if (!seccomp.listenerPath) throw new Error('seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath, the socket of the agent that receives the listener');
  return { path: seccomp.listenerPath, metadata: seccomp.listenerMetadata ?? '' };
}

export function planSeccomp(seccomp: LinuxSeccomp): SeccompPlan {
  for (const flag of seccomp.flags ?? []) {
    if (!(flag in FILTER_FLAGS)) throw new Error(`seccomp: flag "${flag}" is not supported`);
  }
  const listener = checkNotify(seccomp);
  const rules: SeccompRule[] = [];
  for (const syscall of seccomp.syscalls ?? []) {
    const act = action(syscall.action, syscall.errnoRet);
    const args = (syscall.args ?? []).map((a) => {
      const op = OPERATORS[a.op];
      if (op === undefined) throw new Error(`seccomp: unknown operator "${a.op}"`);
      if (a.index < 0 || a.index > 5) throw new Error(`seccomp: argument index ${a.index} out of range`);
      return { index: a.index, op, value: BigInt(a.value).toString(), valueTwo: BigInt(a.valueTwo ?? 0).toString() };
    });
    for (const name of syscall.names) rules.push({ name, action: act, args });
  }
  return {
    defaultAction: action(seccomp.defaultAction, seccomp.defaultErrnoRet),
    architectures: (seccomp.architectures ?? []).map(archName),
    flags: seccomp.flags ?? [],
    rules,
    ...(listener ? { listener } : {}),
  };
}

interface Libseccomp {
  init: (action: number) => unknown;
  release: (ctx: unknown) => void;
  archAdd: (ctx: unknown, arch: number) => number;
  archResolve: (name: string) => number;
  resolveName: (name: string) => number;
  resolveNameArch: (arch: number, name: string) => number;
  ruleAdd: (ctx: unknown, action: number, syscall: number, count: number, args: Buffer | null) => number;
  attrSet: (ctx: unknown, attr: number, value: number) => number;
  exportBpf: (ctx: unknown, fd: number) => number;
}

let lib: Libseccomp | undefined;

function loadLibseccomp(): Libseccomp {
  if (lib) return lib;
  let handle: ReturnType<ReturnType<typeof koffi>['load']>;
  try {
    handle = koffi().load('libseccomp.so.2');
  } catch (err) {
    throw new Error(`seccomp requested but libseccomp cannot be loaded: ${(err as Error).message}`);
  }
  lib = {
    init: handle.func('void *seccomp_init(uint32_t action)'),
    release: handle.func('void seccomp_release(void *ctx)'),
    archAdd: handle.func('int seccomp_arch_add(void *ctx, uint32_t arch)'),
    archResolve: handle.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    resolveName: handle.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNameArch: handle.func('int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)'),
    ruleAdd: handle.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int count, void *args)'),
    attrSet: handle.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    exportBpf: handle.func('int seccomp_export_bpf(void *ctx, int fd)'),
  };
  return lib;
}

function ok(ret: number, what: string): void {
  if (ret < 0) throw new Error(`seccomp: ${what}: ${-ret === 22 ? 'invalid argument' : `error ${-ret}`}`);
}

function comparisons(args: SeccompRule['args']): Buffer {
  const buf = Buffer.alloc(24 * args.length); // struct scmp_arg_cmp { u32 arg; u32 op; u64 a; u64 b }
  args.forEach((a, i) => {
    buf.writeUInt32LE(a.index, i * 24);
    buf.writeUInt32LE(a.op, i * 24 + 4);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a.value)), i * 24 + 8);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a.valueTwo)), i * 24 + 16);
  });
  return buf;
}

/** Conditions on the same argument cannot share a rule in libseccomp: one rule per condition then. */
function ruleGroups(args: SeccompRule['args']): SeccompRule['args'][] {
  const indexes = new Set(args.map((a) => a.index));
  return indexes.size === args.length ? [args] : args.map((a) => [a]);
}

const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
const MFD_CLOEXEC = 1;

/** What the executor loads: seccomp(2)'s filter flags and the program (struct sock_filter[]). */
export interface SeccompProgram {
  flags: number;
  bpf: Buffer;
}

export function compileSeccompFilter(plan: SeccompPlan): SeccompProgram {
  const s = loadLibseccomp();
  const ctx = s.init(plan.defaultAction);
  if (!ctx) throw new Error('seccomp: seccomp_init failed');
  try {
    // no_new_privs is the process' own setting (process.noNewPrivileges), not a side effect of seccomp.
    ok(s.attrSet(ctx, ATTR_NO_NEW_PRIVS, 0), 'clear the no_new_privs attribute');
    const archTokens = plan.architectures.map((arch) => {
      const token = s.archResolve(arch);
      if (token === 0) throw new Error(`seccomp: unknown architecture "${arch}"`);
      const ret = s.archAdd(ctx, token);
      if (ret !== -17 /* EEXIST: the native one */) ok(ret, `add architecture ${arch}`);
      return token;
    });
    for (const rule of plan.rules) {
      const nr = s.resolveName(rule.name);
      // Unknown to this libseccomp or this kernel: skipped, as runc does.
      if (nr === -1 || rule.action === plan.defaultAction) continue;
      for (const group of ruleGroups(rule.args)) {
        ok(s.ruleAdd(ctx, rule.action, nr, group.length, group.length ? comparisons(group) : null), `rule for ${rule.name}`);
      }
    }
    const fd = check(memfdCreate('tsrunc-seccomp', MFD_CLOEXEC) as number, 'memfd_create');
    try {
      ok(s.exportBpf(ctx, fd), 'export the filter');
      const flags = plan.flags.reduce((all, flag) => all | FILTER_FLAGS[flag]!, plan.listener ? FLAG_NEW_LISTENER : 0);
      const stub = enosysStub({ defaultAction: plan.defaultAction, archTokens, names: plan.rules.map((r) => r.name) }, s.resolveNameArch);
      return { flags, bpf: Buffer.concat([stub, readWhole(fd)]) };
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    s.release(ctx);
  }
}

function readWhole(fd: number): Buffer {
  const size = fs.fstatSync(fd).size;
  const bpf = Buffer.alloc(size);
  let done = 0;
  while (done < size) done += fs.readSync(fd, bpf, done, size - done, done);
  return bpf;
}
