// Device numbers as the kernel takes them from mknod(2).

/** glibc's makedev(): 12 bits of major and 20 of minor, split across the 64-bit dev_t. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}
