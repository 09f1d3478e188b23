// A pseudo-terminal made from the container's own /dev/ptmx, so that it belongs to the
// container's devpts instance, and turned into the process' controlling terminal.
import fs from 'node:fs';
import { libc, check } from '../sys/libc.js';
import { setWindowSize, type WindowSize } from './terminal.js';

const ioctlInt = libc.func('int ioctl(int fd, unsigned long request, _Inout_ int *arg)');
const ioctlPtr = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
const setsid = libc.func('int setsid(void)');
const dup2 = libc.func('int dup2(int oldfd, int newfd)');
const TIOCGPTN = 0x80045430, TIOCSPTLCK = 0x40045431, TIOCSCTTY = 0x540e;

export interface Pty {
  masterFd: number;
  slaveFd: number;
  slavePath: string;
}

export function createPty(size?: WindowSize): Pty {
  const masterFd = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  try {
    const number = [0];
    check(ioctlInt(masterFd, TIOCGPTN, number) as number, 'ioctl(TIOCGPTN)');
    check(ioctlInt(masterFd, TIOCSPTLCK, [0]) as number, 'unlock the pty');
    const slavePath = `/dev/pts/${number[0]}`;
    const slaveFd = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    if (size) setWindowSize(slaveFd, size);
    return { masterFd, slaveFd, slavePath };
  } catch (err) {
    fs.closeSync(masterFd);
    throw err;
  }
}

/** A new session whose controlling terminal is the pty, which becomes stdin, stdout and stderr. */
export function makeControllingTerminal(slaveFd: number): void {
  check(setsid() as number, 'setsid');
  check(ioctlPtr(slaveFd, TIOCSCTTY, null) as number, 'make the pty the controlling terminal');
  for (const fd of [0, 1, 2]) check(dup2(slaveFd, fd) as number, `dup2 pty -> ${fd}`);
  if (slaveFd > 2) fs.closeSync(slaveFd);
}
