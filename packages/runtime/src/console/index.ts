export { acceptConnection, connectUnixSocket, listenUnixSocket, recvFd, sendFd, socketPair } from './socket.js';
export { createPty, makeControllingTerminal, type Pty } from './pty.js';
