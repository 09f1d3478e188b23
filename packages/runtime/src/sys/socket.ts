// socket(2) for the runtime's two kinds of socket (unix sockets for consoles and seccomp agents,
// netlink for network devices), which node:net cannot give as bare fds. Closing one is fs.closeSync.
import { check, libc } from './libc.js';

const socketC = libc.func('int socket(int domain, int type, int protocol)');

export const SOCK_CLOEXEC = 0o2000000;

/** A new socket's fd; `what` names it in the error. */
export function openSocket(domain: number, type: number, protocol: number, what: string): number {
  return check(socketC(domain, type, protocol) as number, what);
}
