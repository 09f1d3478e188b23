// The exec stage: started by the native stage inside every namespace of a running container but
// its mount namespace, which it joins last, once everything it needs from the host is loaded.
import fs from 'node:fs';
import { SYNC_FD } from '../launch/stage.js';
import { execProcess, prepareProcess } from '../process/index.js';
import { joinMountNamespace } from '../sys/mntns.js';
import { attachConsole } from './console.js';
import type { ExecPlan, FromStage, ToStage } from './protocol.js';
import { SyncChannel } from './sync-channel.js';

function main(): void {
  const channel = new SyncChannel(SYNC_FD);
  try {
    const message = channel.read<ToStage>();
    if (message.type !== 'plan') throw new Error(`exec: expected a plan, got ${message.type}`);
    const plan = message.plan as ExecPlan;
    prepareProcess(plan.process);
    joinMountNamespace(plan.mountNamespaceFd);
    fs.closeSync(plan.mountNamespaceFd);
    if (plan.consoleSocketFd !== undefined) attachConsole(plan.consoleSocketFd, plan.consoleSize);
    // No `ready`: the socket closes on a successful execve (close-on-exec), and a failure
    // before or in execve is reported below, so the parent learns which one happened.
    execProcess(plan.process);
  } catch (err) {
    const text = (err as Error).message;
    channel.send({ type: 'error', message: text } satisfies FromStage);
    process.stderr.write(`tsrunc exec: ${text}\n`);
    process.exit(1);
  }
}

main();
