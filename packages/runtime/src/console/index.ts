export { acceptConnection, connectUnixSocket, listenUnixSocket, recvFd, sendFd } from './socket.js';
export { createPty, makeControllingTerminal, type Pty } from './pty.js';
