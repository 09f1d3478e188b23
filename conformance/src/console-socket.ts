// The listening end of --console-socket, as containerd's shim holds it: the tests that check what
// a terminal container gets over it share these.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acceptConnection, listenUnixSocket, recvFd } from '@tsrunc/runtime/testing';
import type { Teardown } from './harness.js';

/** A listening --console-socket in a temp dir, both removed at the test's end. */
export function consoleSocket(t: Teardown): { socketPath: string; listenFd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-console-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'console.sock');
  const listenFd = listenUnixSocket(socketPath);
  t.teardown(() => fs.closeSync(listenFd));
  return { socketPath, listenFd };
}

/** The pty master the runtime sent (and the name it sent with it), closed at the test's end. */
export function receiveMaster(t: Teardown, listenFd: number): { masterFd: number; name: string } {
  const connection = acceptConnection(listenFd);
  const { fd: masterFd, name } = recvFd(connection);
  fs.closeSync(connection);
  t.teardown(() => fs.closeSync(masterFd));
  return { masterFd, name };
}
