// @tsrunc/runtime/testing: what tests of the runtime and its clients need: a busybox root
// filesystem, the listening end of a --console-socket (as containerd's shim holds it), and a pty
// to stand for a caller's terminal.
export { makeBusyboxRootfs } from './busybox-rootfs.js';
export { acceptConnection, createPty, listenUnixSocket, recvFd, type Pty } from '../console/index.js';
