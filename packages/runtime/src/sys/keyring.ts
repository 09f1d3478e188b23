// Session keyrings: without a new one, a container's processes would share the session keyring
// (and so the keys) of whoever ran tsrunc.
import { libc, check, lastErrno } from './libc.js';
import { syscallNumber } from './syscalls.js';

const keyctl = libc.func('long syscall(long nr, int cmd, const char *name)');
const KEYCTL_JOIN_SESSION_KEYRING = 1;
const ENOSYS = 38;

export function joinSessionKeyring(name: string): void {
  const ret = Number(keyctl(syscallNumber('keyctl'), KEYCTL_JOIN_SESSION_KEYRING, name));
  // Kernels built without keys have nothing to share: as runc, carry on.
  if (ret < 0 && lastErrno() === ENOSYS) return;
  check(ret, `join a new session keyring "${name}"`);
}
