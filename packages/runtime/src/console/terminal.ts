// Terminal settings through termios and the window-size ioctls: a pty's size, the caller's
// terminal put in raw mode (and restored) while tsrunc relays a container's pty, and the output
// translation runc turns off on the pty it relays.
import { check, libc } from '../sys/libc.js';

const ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
const tcgetattr = libc.func('int tcgetattr(int fd, void *termios)');
const tcsetattr = libc.func('int tcsetattr(int fd, int action, const void *termios)');
const cfmakeraw = libc.func('void cfmakeraw(void *termios)');

const TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;
const TCSANOW = 0;
/** sizeof(struct termios) in glibc: four flag words, c_line, c_cc[32], padding, two speeds. */
const TERMIOS_SIZE = 60;
const C_OFLAG = 4;
const ONLCR = 0o4;

export interface WindowSize {
  height: number;
  width: number;
}

export function windowSize(fd: number): WindowSize {
  const winsize = Buffer.alloc(8); // struct winsize { rows, cols, xpixel, ypixel }
  check(ioctl(fd, TIOCGWINSZ, winsize) as number, 'get the terminal size');
  return { height: winsize.readUInt16LE(0), width: winsize.readUInt16LE(2) };
}

export function setWindowSize(fd: number, size: WindowSize): void {
  const winsize = Buffer.alloc(8);
  winsize.writeUInt16LE(size.height, 0);
  winsize.writeUInt16LE(size.width, 2);
  check(ioctl(fd, TIOCSWINSZ, winsize) as number, 'set the console size');
}

function getTermios(fd: number): Buffer {
  const termios = Buffer.alloc(TERMIOS_SIZE);
  check(tcgetattr(fd, termios) as number, 'read the terminal settings');
  return termios;
}

function setTermios(fd: number, termios: Buffer): void {
  check(tcsetattr(fd, TCSANOW, termios) as number, 'set the terminal settings');
}

/** Raw mode (cfmakeraw) on `fd`; the function returned puts back the settings it found. */
export function makeRaw(fd: number): () => void {
  const saved = getTermios(fd);
  const raw = Buffer.from(saved);
  cfmakeraw(raw);
  setTermios(fd, raw);
  return () => setTermios(fd, saved);
}

/**
 * No "\n" -> "\r\n" on output. On a pty master the termios calls reach the pty's one set of
 * settings, the container's; runc clears ONLCR on the pty it relays, so a foreground run prints
 * "Hello World\n" as the program wrote it.
 */
export function clearOnlcr(fd: number): void {
  const termios = getTermios(fd);
  termios.writeUInt32LE(termios.readUInt32LE(C_OFLAG) & ~ONLCR, C_OFLAG);
  setTermios(fd, termios);
}
