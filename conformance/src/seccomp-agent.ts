// A seccomp agent for the tests, run as a process of its own (node seccomp-agent.js), since it
// must answer a container's system calls while the test waits for the runtime: it accepts
// connections on the listening unix socket it inherits as fd 3, takes from each the container
// process state and the listener (SCM_RIGHTS), and answers notifications: mkdir fails with
// ENOMEDIUM, anything else continues. Each event is one JSON line on stdout, for the test to check.
import fs from 'node:fs';
import { check, libc } from '@tsrunc/runtime/platform';
import { acceptConnection, recvFd } from '@tsrunc/runtime/testing';

const LISTEN_FD = 3;
const MKDIR = 83; // x86_64
const ENOMEDIUM = 123;
/** ioctls of a seccomp listener: _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct seccomp_notif_resp). */
const NOTIF_RECV = 0xc0502100;
const NOTIF_SEND = 0xc0182101;
const USER_NOTIF_FLAG_CONTINUE = 1;
const POLLIN = 1;

const ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');

function report(event: Record<string, unknown>): void {
  fs.writeSync(1, JSON.stringify(event) + '\n');
}

/** The NUL-terminated string at `address` in process `pid`'s memory. */
function stringAt(pid: number, address: bigint): string {
  const mem = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const n = fs.readSync(mem, buffer, 0, buffer.length, Number(address));
    const end = buffer.subarray(0, n).indexOf(0);
    return buffer.toString('utf8', 0, end < 0 ? n : end);
  } finally {
    fs.closeSync(mem);
  }
}

/** One notification: struct seccomp_notif { u64 id; u32 pid; u32 flags; struct seccomp_data { i32 nr; u32 arch; u64 ip; u64 args[6] } }. */
function answer(listener: number): void {
  const notif = Buffer.alloc(80);
  // A process killed since poll(2) reported it takes its notification away: ENOENT, nothing to answer.
  if ((ioctl(listener, NOTIF_RECV, notif) as number) < 0) return;
  const id = notif.readBigUInt64LE(0);
  const pid = notif.readUInt32LE(8);
  const nr = notif.readInt32LE(16);
  const response = Buffer.alloc(24); // struct seccomp_notif_resp { u64 id; i64 val; i32 error; u32 flags }
  response.writeBigUInt64LE(id, 0);
  if (nr === MKDIR) {
    // The caller is inside mkdir(2) until we answer: its /proc/PID/syscall names the call.
    const blockedIn = Number(fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0]);
    const parent = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    report({ event: 'mkdir', pid, parent, path: stringAt(pid, notif.readBigUInt64LE(32)), blockedIn });
    response.writeInt32LE(-ENOMEDIUM, 16);
  } else {
    response.writeUInt32LE(USER_NOTIF_FLAG_CONTINUE, 20);
  }
  check(ioctl(listener, NOTIF_SEND, response) as number, 'answer a notification');
}

function main(): never {
  const listeners: number[] = [];
  for (;;) {
    const fds = [LISTEN_FD, ...listeners];
    const pollfds = Buffer.alloc(8 * fds.length); // struct pollfd { int fd; short events; short revents }
    fds.forEach((fd, i) => {
      pollfds.writeInt32LE(fd, 8 * i);
      pollfds.writeInt16LE(POLLIN, 8 * i + 4);
    });
    check(poll(pollfds, fds.length, -1) as number, 'poll');
    fds.forEach((fd, i) => {
      const revents = pollfds.readInt16LE(8 * i + 6);
      if (revents === 0) return;
      if (fd === LISTEN_FD) {
        const connection = acceptConnection(LISTEN_FD);
        const received = recvFd(connection);
        fs.closeSync(connection);
        report({ event: 'state', state: JSON.parse(received.name) as unknown });
        listeners.push(received.fd);
      } else if (revents & POLLIN) {
        answer(fd);
      } else {
        // POLLHUP: every process under that filter is gone.
        fs.closeSync(fd);
        listeners.splice(listeners.indexOf(fd), 1);
      }
    });
  }
}

main();
