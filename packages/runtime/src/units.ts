// Sizes in bytes as docker's and runc's command lines take them (go-units' RAMInBytes): tsrunc
// update --memory, tsbuild --shm-size and --keep-storage.

/** The unit letters, each a power of 1024 (docker's sizes for memory and storage are binary). */
const BINARY_UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * "1024", "512m", "1.5GiB", "2 GB", "64kb", "10b" -> bytes, rounded down. Units are k, m, g, t and
 * p, any case, optionally followed by "b" or "ib", all of them binary; "b" alone means bytes.
 * Anything else, a negative size included, is an error naming the text.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgtp])(?:i?b)?|b)?\s*$/i.exec(text);
  if (!m) throw new Error(`invalid size "${text}" (a number of bytes, or with a unit: 512k, 64MB, 2GiB, 1t)`);
  const bytes = Math.floor(Number(m[1]) * (m[2] === undefined ? 1 : BINARY_UNITS[m[2].toLowerCase()]!));
  if (!Number.isSafeInteger(bytes)) throw new Error(`invalid size "${text}": too large`);
  return bytes;
}
