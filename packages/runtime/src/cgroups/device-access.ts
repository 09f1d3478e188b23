// The access letters of a device rule (linux.resources.devices[].access), read once for v1's files
// and v2's program alike.

/**
 * The access a rule names, as runc reads it (its devices emulator counts letters into a set):
 * which of r, w and m appear, in that order; repeats and other letters count for nothing, so
 * "rwa" is "rw" and "mwr" is "rwm". Absent or empty means all three.
 */
export function deviceAccess(access: string | undefined): string {
  if (access === undefined || access === '') return 'rwm';
  return [...'rwm'].filter((letter) => access.includes(letter)).join('');
}
