// The kernel's refusals (ENOSPC, EROFS, EMFILE, ...) as one line naming the file involved. Node
// names the path for open() and friends, but not for a write to an open file or a stream, where
// "ENOSPC: no space left on device, write" leaves the reader guessing which disk filled up.

interface ErrnoError extends Error {
  code?: string;
  path?: string;
}

/** `err` with `file` in its message when it is a system error that does not name a path yet. */
export function withPath(err: unknown, file: string): unknown {
  const e = err as ErrnoError;
  if (!(err instanceof Error) || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code) || e.path !== undefined) return err;
  // "ENOSPC: no space left on device, write" -> "write /store/tmp/x: ENOSPC: no space left on device"
  const m = /^(E[A-Z]+: [^,]+), (\w+)$/.exec(e.message);
  const described: ErrnoError = new Error(m ? `${m[2]} ${file}: ${m[1]}` : `${file}: ${e.message}`);
  described.code = e.code;
  described.path = file;
  return described;
}
