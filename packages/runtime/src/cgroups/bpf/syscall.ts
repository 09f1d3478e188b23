// bpf(2) for the device filter: load a program, attach it to a cgroup, and replace what was there.
import fs from 'node:fs';
import { check, defineTypes, koffi, lastErrno, libc, SysError } from '../../sys/libc.js';
import { syscallNumber } from '../../sys/syscalls.js';
import { encode, type Insn } from './asm.js';

defineTypes(() => {
  koffi().struct('tsrunc_bpf_prog_load', {
    prog_type: 'uint32_t', insn_cnt: 'uint32_t', insns: 'void *', license: 'const char *',
    log_level: 'uint32_t', log_size: 'uint32_t', log_buf: 'void *', kern_version: 'uint32_t', prog_flags: 'uint32_t',
    prog_name0: 'uint64_t', prog_name1: 'uint64_t', prog_ifindex: 'uint32_t', expected_attach_type: 'uint32_t',
  });
  koffi().struct('tsrunc_bpf_prog_query', {
    target_fd: 'uint32_t', attach_type: 'uint32_t', query_flags: 'uint32_t', attach_flags: 'uint32_t',
    prog_ids: 'void *', prog_cnt: 'uint32_t', pad: 'uint32_t',
  });
});
const bpfLoad = libc.func('long syscall(long nr, int cmd, const tsrunc_bpf_prog_load *attr, uint32_t size)');
const bpfQuery = libc.func('long syscall(long nr, int cmd, _Inout_ tsrunc_bpf_prog_query *attr, uint32_t size)');
const bpfRaw = libc.func('long syscall(long nr, int cmd, void *attr, uint32_t size)');

const BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8, BPF_PROG_DETACH = 9, BPF_PROG_GET_FD_BY_ID = 13, BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;

function loadProgram(program: Insn[]): number {
  const log = Buffer.alloc(64 * 1024);
  const attr = {
    prog_type: BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt: program.length, insns: encode(program), license: 'Apache-2.0',
    log_level: 1, log_size: log.length, log_buf: log, kern_version: 0, prog_flags: 0,
    prog_name0: 0n, prog_name1: 0n, prog_ifindex: 0, expected_attach_type: BPF_CGROUP_DEVICE,
  };
  const fd = Number(bpfLoad(syscallNumber('bpf'), BPF_PROG_LOAD, attr, koffi().sizeof('tsrunc_bpf_prog_load')));
  if (fd < 0) {
    const errno = lastErrno();
    const verifier = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trim().split('\n').slice(-3).join('; ');
    throw new Error(`load the device filter: ${new SysError('bpf(BPF_PROG_LOAD)', errno).message}${verifier ? ` (verifier: ${verifier})` : ''}`);
  }
  return fd;
}

function attachAttr(cgroupFd: number, progFd: number, flags: number): Buffer {
  const attr = Buffer.alloc(20); // { target_fd, attach_bpf_fd, attach_type, attach_flags, replace_bpf_fd }
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  attr.writeUInt32LE(flags, 12);
  return attr;
}

/** Ids of the device programs attached to the cgroup directly. */
function attachedPrograms(cgroupFd: number): number[] {
  const ids = Buffer.alloc(4 * 64);
  const attr = { target_fd: cgroupFd, attach_type: BPF_CGROUP_DEVICE, query_flags: 0, attach_flags: 0, prog_ids: ids, prog_cnt: 64, pad: 0 };
  check(Number(bpfQuery(syscallNumber('bpf'), BPF_PROG_QUERY, attr, koffi().sizeof('tsrunc_bpf_prog_query'))), 'bpf(BPF_PROG_QUERY)');
  return Array.from({ length: attr.prog_cnt }, (_, i) => ids.readUInt32LE(i * 4));
}

function detach(cgroupFd: number, id: number): void {
  const byId = Buffer.alloc(12);
  byId.writeUInt32LE(id, 0);
  const progFd = Number(bpfRaw(syscallNumber('bpf'), BPF_PROG_GET_FD_BY_ID, byId, byId.length));
  if (progFd < 0) return; // gone meanwhile
  try {
    check(Number(bpfRaw(syscallNumber('bpf'), BPF_PROG_DETACH, attachAttr(cgroupFd, progFd, 0), 20)), 'bpf(BPF_PROG_DETACH)');
  } finally {
    fs.closeSync(progFd);
  }
}

/**
 * Makes `program` (or nothing, for null) the cgroup's device filter: the new one is attached
 * before the old ones go, so that there is no moment without a filter.
 */
export function replaceDeviceProgram(cgroupDir: string, program: Insn[] | null): void {
  const cgroupFd = fs.openSync(cgroupDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const old = attachedPrograms(cgroupFd);
    if (program) {
      const progFd = loadProgram(program);
      try {
        check(Number(bpfRaw(syscallNumber('bpf'), BPF_PROG_ATTACH, attachAttr(cgroupFd, progFd, BPF_F_ALLOW_MULTI), 20)), `attach the device filter to ${cgroupDir}`);
      } finally {
        fs.closeSync(progFd);
      }
    }
    for (const id of old) detach(cgroupFd, id);
  } finally {
    fs.closeSync(cgroupFd);
  }
}
