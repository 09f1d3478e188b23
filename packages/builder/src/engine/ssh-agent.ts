// RUN --mount=type=ssh: the host's ssh-agent reached from a step without handing it the agent's
// own socket. Each mount gets a socket of ours, owned and moded as the mount asks, whose
// connections are relayed to the agent given with --ssh; it closes when the build ends.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SocketOwner {
  uid: number;
  gid: number;
  mode: number;
}

/** --ssh values: "default" (from $SSH_AUTH_SOCK) or "ID=SOCKET", to agent sockets by id. */
export function parseSshAgents(list: string[] = [], env = process.env): Record<string, string> {
  const agents: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const id = eq < 0 ? item : item.slice(0, eq);
    const socket = eq < 0 ? env.SSH_AUTH_SOCK : item.slice(eq + 1);
    if (!id || !socket) throw new Error(`--ssh ${item}: no agent socket (give ID=SOCKET, or set SSH_AUTH_SOCK)`);
    if (socket.includes(',')) throw new Error(`--ssh ${item}: key files are not supported, only an ssh-agent socket`);
    const stat = fs.statSync(socket, { throwIfNoEntry: false });
    if (!stat?.isSocket()) throw new Error(`--ssh ${item}: ${socket} is not an ssh-agent socket (key files are not supported)`);
    agents[id] = path.resolve(socket);
  }
  return agents;
}

export class SshForwarder {
  private dir: string | undefined;
  private readonly servers: net.Server[] = [];

  constructor(private readonly agents: Record<string, string>) {}

  /** A socket relaying to agent `id`, or undefined when the build was given no such agent. */
  async socketFor(id: string, owner: SocketOwner): Promise<string | undefined> {
    const agent = this.agents[id];
    if (!agent) return undefined;
    this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-ssh-'));
    const socket = path.join(this.dir, `agent-${this.servers.length}.sock`);
    const server = net.createServer((client) => {
      const upstream = net.connect(agent);
      // Either side going away ends both: the agent protocol has no half-closed state to keep.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
    server.unref();
    fs.chownSync(socket, owner.uid, owner.gid);
    fs.chmodSync(socket, owner.mode);
    return socket;
  }

  close(): void {
    for (const server of this.servers) server.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
