// @tsrunc/runtime/testing: what tests of the runtime and its clients need: a busybox root
// filesystem, and the listening end of a --console-socket (as containerd's shim holds it).
export { makeBusyboxRootfs } from './busybox-rootfs.js';
export { acceptConnection, listenUnixSocket, recvFd } from '../console/index.js';
