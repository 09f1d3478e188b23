// A foreground terminal without --console-socket: as runc does, tsrunc holds the pty master
// itself and relays until the process exits: the caller's stdin to the master, the master to the
// caller's stdout. Meanwhile the caller's terminal is in raw mode, so that keys such as ^C reach
// the container's pty, whose line discipline turns them into signals for the container, and its
// window size is passed on, at the start and on each SIGWINCH.
//
// One poll(2) on a worker thread (koffi's async call, as in Node as in Bun) waits for the master,
// stdin and a wake-up pipe; the main thread then moves the bytes with non-blocking reads and
// writes on the master. Nothing is read ahead into an engine's stream buffers, so that when the
// process exits, finish() passes on exactly what it wrote (the kernel delivers a pty's pending
// output before it answers EAGAIN) and the wake-up pipe ends the last poll: nothing keeps the
// event loop alive.
import fs from 'node:fs';
import tty from 'node:tty';
import { check, libc } from '../sys/libc.js';
import { writeAll } from '../sys/write-all.js';
import { clearOnlcr, makeRaw, setWindowSize, windowSize, type WindowSize } from './terminal.js';

const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
const poll = libc.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)');
const F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000;
const POLLIN = 1, POLLOUT = 4;
const STDIN = 0, STDOUT = 1;
/** struct pollfd { int fd; short events; short revents } */
const POLLFD_SIZE = 8;

type Fd = number;

function setNonBlocking(fd: Fd): void {
  const flags = check(fcntl(fd, F_GETFL, 0) as number, 'read the pty master flags');
  check(fcntl(fd, F_SETFL, flags | O_NONBLOCK) as number, 'make the pty master non-blocking');
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException).code === code;
}

/** The caller's terminal as runc finds it: stderr, stdout or stdin if one is, else the controlling terminal. */
function hostTerminal(): { fd: Fd; owned: boolean } | undefined {
  for (const fd of [2, 1, 0]) if (tty.isatty(fd)) return { fd, owned: false };
  try {
    return { fd: fs.openSync('/dev/tty', fs.constants.O_RDWR | fs.constants.O_NOCTTY), owned: true };
  } catch {
    // No terminal at all (runc fails here): the relay still carries the data, with no mode or size to pass on.
    return undefined;
  }
}

/**
 * The size the relay gives the pty: the caller's terminal's, if it has one and knows its size.
 * For exec, whose executor makes the pty and may start the program before the relay runs.
 */
export function hostTerminalSize(): WindowSize | undefined {
  const host = hostTerminal();
  if (host === undefined) return undefined;
  try {
    const size = windowSize(host.fd);
    return size.height > 0 && size.width > 0 ? size : undefined;
  } catch {
    return undefined;
  } finally {
    if (host.owned) fs.closeSync(host.fd);
  }
}

export class TerminalRelay {
  private readonly host: { fd: Fd; owned: boolean } | undefined;
  private restoreHost: (() => void) | undefined;
  private readonly wake: [Fd, Fd] = [-1, -1];
  private readonly buffer = Buffer.alloc(65536);
  /** Stdin bytes the pty had no room for yet; stdin is not read meanwhile. */
  private pendingInput: Buffer | undefined;
  private stdinOpen = true;
  /** Cleared at EIO: every holder of the pty's slave has closed it, and its output is all read. */
  private masterOpen = true;
  /** Cleared when the caller's stdout goes away: the pty is still read, so the container never blocks on it. */
  private stdoutOpen = true;
  private polling = false;
  private finished = false;
  private readonly resize = (): void => {
    if (this.host === undefined) return;
    try {
      const size = windowSize(this.host.fd);
      // A terminal that knows no size (0x0, e.g. script(1) without a terminal) keeps process.consoleSize.
      if (size.height > 0 && size.width > 0) setWindowSize(this.masterFd, size);
    } catch {
      // As runc: a size that cannot be read or passed on leaves the pty's as it was.
    }
  };

  /** Takes `masterFd`, which the relay closes once finished (or the constructor, when it fails). */
  constructor(private readonly masterFd: Fd) {
    this.host = hostTerminal();
    try {
      clearOnlcr(masterFd);
      setNonBlocking(masterFd);
      check(pipe2(this.wake, O_NONBLOCK | O_CLOEXEC) as number, 'pipe2');
      this.resize();
      if (this.host !== undefined) this.restoreHost = makeRaw(this.host.fd);
    } catch (err) {
      this.close();
      throw err;
    }
    process.on('SIGWINCH', this.resize);
    this.arm();
  }

  private arm(): void {
    const fds = Buffer.alloc(3 * POLLFD_SIZE);
    const watch = (slot: number, fd: Fd, events: number) => {
      fds.writeInt32LE(fd, slot * POLLFD_SIZE);
      fds.writeInt16LE(events, slot * POLLFD_SIZE + 4);
    };
    watch(0, this.wake[0], POLLIN);
    watch(1, this.masterFd, POLLIN | (this.pendingInput ? POLLOUT : 0));
    // A negative fd is skipped by poll: stdin waits while the pty is full, and after its end.
    watch(2, this.stdinOpen && !this.pendingInput ? STDIN : -1, POLLIN);
    this.polling = true;
    poll.async(fds, 3, -1, () => {
      this.polling = false;
      if (this.finished) return this.close();
      const revents = (slot: number) => fds.readInt16LE(slot * POLLFD_SIZE + 6);
      if (revents(0)) this.readWake();
      if (revents(1)) {
        this.pumpOutput();
        if (this.pendingInput) this.pumpInput(this.pendingInput);
      }
      if (revents(2)) this.readStdin();
      // Once the pty is closed, nothing more can come out of it nor go into it.
      if (this.masterOpen) this.arm();
    });
  }

  private readWake(): void {
    try {
      while (fs.readSync(this.wake[0], this.buffer) > 0);
    } catch { /* EAGAIN: empty */ }
  }

  /** The master's output to stdout, until EAGAIN (nothing more for now) or EIO (the pty is closed). */
  private pumpOutput(): void {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(this.masterFd, this.buffer);
      } catch (err) {
        if (!isErrno(err, 'EAGAIN')) this.masterOpen = false;
        return;
      }
      if (n === 0) {
        this.masterOpen = false;
        return;
      }
      if (!this.stdoutOpen) continue;
      try {
        writeAll(STDOUT, this.buffer.subarray(0, n));
      } catch {
        this.stdoutOpen = false;
      }
    }
  }

  private readStdin(): void {
    let n: number;
    try {
      n = fs.readSync(STDIN, this.buffer);
    } catch (err) {
      if (!isErrno(err, 'EAGAIN') && !isErrno(err, 'EINTR')) this.stdinOpen = false;
      return;
    }
    // At stdin's end the container's pty sees no end of file, as with runc.
    if (n === 0) this.stdinOpen = false;
    else this.pumpInput(Buffer.from(this.buffer.subarray(0, n)));
  }

  /** As much of `data` as the pty takes now; the rest waits for POLLOUT. */
  private pumpInput(data: Buffer): void {
    let offset = 0;
    try {
      while (offset < data.length) offset += fs.writeSync(this.masterFd, data, offset);
    } catch (err) {
      if (!isErrno(err, 'EAGAIN')) offset = data.length; // EIO: the pty is closed, pumpOutput sees it too
    }
    this.pendingInput = offset < data.length ? data.subarray(offset) : undefined;
  }

  /**
   * Once the process has exited: what it wrote is passed on, the caller's terminal is restored,
   * and the poll in flight is woken so that its completion closes the relay's fds.
   */
  finish(): void {
    this.finished = true;
    process.off('SIGWINCH', this.resize);
    try {
      if (this.masterOpen) this.pumpOutput();
    } finally {
      this.restoreHost?.();
      this.restoreHost = undefined;
      if (this.polling) fs.writeSync(this.wake[1], 'x');
      else this.close();
    }
  }

  private close(): void {
    this.restoreHost?.();
    if (this.host?.owned) fs.closeSync(this.host.fd);
    for (const fd of [this.masterFd, ...this.wake]) if (fd >= 0) fs.closeSync(fd);
  }
}
