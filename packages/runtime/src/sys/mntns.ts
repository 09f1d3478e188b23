// Joining a mount namespace from Node. The kernel refuses setns(CLONE_NEWNS) to a thread whose
// filesystem context (root, cwd) is shared with other threads, as all of Node's are: unshare
// CLONE_FS first, so that this thread, the one that will execve, moves alone.
import { libc, check } from './libc.js';

const unshare = libc.func('int unshare(int flags)');
const setns = libc.func('int setns(int fd, int nstype)');
const CLONE_FS = 0x00000200;
const CLONE_NEWNS = 0x00020000;

export function joinMountNamespace(fd: number): void {
  check(unshare(CLONE_FS) as number, 'unshare(CLONE_FS)');
  check(setns(fd, CLONE_NEWNS) as number, 'setns into the container\'s mount namespace');
}
