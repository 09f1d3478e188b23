// Unix sockets at the fd level: --console-socket is a path the caller listens on, and the pty
// master travels over it as SCM_RIGHTS ancillary data, with the pty's name as the payload (runc's
// protocol, which containerd and recvtty speak).
import fs from 'node:fs';
import { check, defineTypes, koffi, libc } from '../sys/libc.js';
import { openSocket, SOCK_CLOEXEC } from '../sys/socket.js';

const socketpair = libc.func('int socketpair(int domain, int type, int protocol, void *fds)');
const connect = libc.func('int connect(int fd, const void *addr, uint32_t len)');
const bind = libc.func('int bind(int fd, const void *addr, uint32_t len)');
const listen = libc.func('int listen(int fd, int backlog)');
const accept4 = libc.func('int accept4(int fd, void *addr, void *len, int flags)');
defineTypes(() => {
  const iovec = koffi().struct('tsrunc_iovec', { base: 'void *', len: 'size_t' });
  koffi().struct('tsrunc_msghdr', {
    name: 'void *', namelen: 'uint32_t', iov: koffi().pointer(iovec), iovlen: 'size_t',
    control: 'void *', controllen: 'size_t', flags: 'int',
  });
});
const sendmsg = libc.func('long sendmsg(int fd, const tsrunc_msghdr *msg, int flags)');
const recvmsg = libc.func('long recvmsg(int fd, _Inout_ tsrunc_msghdr *msg, int flags)');

const AF_UNIX = 1, SOCK_STREAM = 1;
/** Message boundaries kept, one message per read: criu's RPC socket. */
export const SOCK_SEQPACKET = 5;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_TRUNC = 0x20, MSG_CMSG_CLOEXEC = 0x40000000;
/** struct cmsghdr (len, level, type) plus one int, aligned: CMSG_SPACE(sizeof(int)). */
const CMSG_SPACE_ONE_FD = 24;

/** `what`, in errors: the socket's role (the console socket, a seccomp agent's socket). */
function unixAddress(path: string, what: string): Buffer {
  const address = Buffer.alloc(110); // struct sockaddr_un { sa_family_t; char sun_path[108] }
  if (Buffer.byteLength(path) >= 108) throw new Error(`${what} path too long: ${path}`);
  address.writeUInt16LE(AF_UNIX, 0);
  address.write(path, 2);
  return address;
}

export function connectUnixSocket(path: string, what = 'console socket'): number {
  const address = unixAddress(path, what);
  const fd = openSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 'socket');
  try {
    check(connect(fd, address, address.length) as number, `connect to ${what} ${path}`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * A connected pair, for a foreground terminal without --console-socket: tsrunc keeps one end and
 * passes the other to the container as its console socket, as runc does with its own (and, of
 * SOCK_SEQPACKET, to criu's RPC).
 */
export function socketPair(type = SOCK_STREAM): [number, number] {
  const fds = new Int32Array(2);
  check(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) as number, 'socketpair');
  return [fds[0]!, fds[1]!];
}

/** The listening end of a console socket: what containerd (or a test) offers at --console-socket. */
export function listenUnixSocket(path: string): number {
  const address = unixAddress(path, 'console socket');
  const fd = openSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 'socket');
  try {
    check(bind(fd, address, address.length) as number, `bind ${path}`);
    check(listen(fd, 4) as number, `listen on ${path}`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** Blocks until a connection arrives (or takes one already queued). */
export function acceptConnection(listenFd: number): number {
  return check(accept4(listenFd, null, null, SOCK_CLOEXEC) as number, 'accept on the console socket');
}

/** `name`: the payload (the pty's name, or a seccomp agent's container process state). */
export function sendFd(socketFd: number, fd: number, name: string, what = 'the console fd'): void {
  const payload = Buffer.from(name);
  const control = Buffer.alloc(CMSG_SPACE_ONE_FD);
  control.writeBigUInt64LE(20n, 0); // CMSG_LEN(sizeof(int))
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  control.writeInt32LE(fd, 16);
  const message = { name: null, namelen: 0, iov: [{ base: payload, len: payload.length }], iovlen: 1, control, controllen: control.length, flags: 0 };
  check(Number(sendmsg(socketFd, message, 0)), `send ${what}`);
}

/**
 * Receives one message (up to `size` bytes) and the fd that came with it, if any, close-on-exec.
 * An empty message is the peer's end of the connection.
 */
export function recvMessage(socketFd: number, size: number, what: string): { data: Buffer; fd?: number } {
  const payload = Buffer.alloc(size);
  const control = Buffer.alloc(CMSG_SPACE_ONE_FD);
  const message = { name: null, namelen: 0, iov: [{ base: payload, len: payload.length }], iovlen: 1, control, controllen: control.length, flags: 0 };
  const n = Number(check(Number(recvmsg(socketFd, message, MSG_CMSG_CLOEXEC)), `receive ${what}`));
  if ((message.flags & MSG_TRUNC) !== 0) throw new Error(`receive ${what}: a message longer than ${size} bytes`);
  const data = payload.subarray(0, n);
  const withFd = control.readBigUInt64LE(0) !== 0n && control.readInt32LE(8) === SOL_SOCKET && control.readInt32LE(12) === SCM_RIGHTS;
  return withFd ? { data, fd: control.readInt32LE(16) } : { data };
}

/** Receives one fd sent by sendFd: what a foreground terminal, tests and the recvtty tool use. */
export function recvFd(socketFd: number): { fd: number; name: string } {
  const { data, fd } = recvMessage(socketFd, 4096, 'a console fd');
  if (fd === undefined) throw new Error('no fd received on the console socket');
  return { fd, name: data.toString('utf8') };
}
