export { acceptConnection, connectUnixSocket, listenUnixSocket, recvFd, recvMessage, sendFd, SOCK_SEQPACKET, socketPair } from './socket.js';
export { createPty, makeControllingTerminal, type Pty } from './pty.js';
