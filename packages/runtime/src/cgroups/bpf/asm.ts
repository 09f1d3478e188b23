// Just enough of an eBPF assembler for a device filter: 8-byte instructions
// { u8 opcode; u8 dst:4, src:4; s16 offset; s32 immediate }.
export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface Insn {
  code: number;
  dst: Register;
  src: Register;
  off: number;
  imm: number;
}

const insn = (code: number, dst: Register, src: Register, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** dst = *(u32 *)(src + off) */
export const loadWord = (dst: Register, src: Register, off: number) => insn(0x61, dst, src, off, 0);
/** dst = imm (64-bit register) */
export const movImm = (dst: Register, imm: number) => insn(0xb7, dst, 0, 0, imm);
/** dst = src (64-bit) */
export const movReg = (dst: Register, src: Register) => insn(0xbf, dst, src, 0, 0);
/** dst &= imm (32-bit) */
export const andImm = (dst: Register, imm: number) => insn(0x54, dst, 0, 0, imm);
/** dst >>= imm (32-bit) */
export const rshImm = (dst: Register, imm: number) => insn(0x74, dst, 0, 0, imm);
/** if dst != imm goto +off */
export const jumpIfNot = (dst: Register, imm: number, off: number) => insn(0x55, dst, 0, off, imm);
/** if dst == imm goto +off */
export const jumpIfEqual = (dst: Register, imm: number, off: number) => insn(0x15, dst, 0, off, imm);
export const exit = () => insn(0x95, 0, 0, 0, 0);

export function encode(program: Insn[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((i, n) => {
    out.writeUInt8(i.code, n * 8);
    out.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    out.writeInt16LE(i.off, n * 8 + 2);
    out.writeInt32LE(i.imm, n * 8 + 4);
  });
  return out;
}
