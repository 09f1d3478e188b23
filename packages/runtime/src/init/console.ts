// process.terminal: a pty made inside the container (after pivot_root, so that it belongs to the
// container's devpts), its master handed to whoever listens on --console-socket, its slave
// becoming the process' controlling terminal and stdio.
import fs from 'node:fs';
import { createPty, makeControllingTerminal, sendFd } from '../console/index.js';

/** `mountSlave`, for a container's init: the slave is bound on /dev/console before it is sent. */
export function attachConsole(socketFd: number, size?: { height: number; width: number }, mountSlave?: (slaveFd: number) => void): void {
  const pty = createPty(size);
  mountSlave?.(pty.slaveFd);
  sendFd(socketFd, pty.masterFd, pty.slavePath);
  fs.closeSync(pty.masterFd);
  fs.closeSync(socketFd);
  makeControllingTerminal(pty.slaveFd);
}
