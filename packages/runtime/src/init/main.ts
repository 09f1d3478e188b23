// The init stage: runs inside the container's new namespaces (started by the native stage),
// builds the container's root filesystem, waits for `tsrunc start` on the exec fifo, then
// becomes the container's process.
import fs from 'node:fs';
import { runHooks } from '../hooks/run.js';
import { SYNC_FD } from '../launch/stage.js';
import { setupRootfs } from '../rootfs/index.js';
import { execProcess, findExecutable, prepareProcess } from '../process/index.js';
import { attachConsole } from './console.js';
import type { FromStage, InitPlan, ToStage } from './protocol.js';
import { SyncChannel } from './sync-channel.js';
import { joinSessionKeyring } from '../sys/keyring.js';

function waitForStart(fifoFd: number): void {
  // Blocks until `tsrunc start` opens the fifo for reading; the byte tells it we are released.
  const fd = fs.openSync(`/proc/self/fd/${fifoFd}`, fs.constants.O_WRONLY);
  fs.writeSync(fd, '0');
  fs.closeSync(fd);
  fs.closeSync(fifoFd);
}

function main(): void {
  const channel = new SyncChannel(SYNC_FD);
  try {
    const message = channel.read<ToStage>();
    if (message.type !== 'plan') throw new Error(`init: expected a plan, got ${message.type}`);
    const plan = message.plan as InitPlan;
    prepareProcess(plan.process);
    if (plan.sessionKeyring !== undefined) joinSessionKeyring(plan.sessionKeyring);
    setupRootfs(plan.rootfs, {
      beforePivot() {
        channel.send({ type: 'prePivot' } satisfies FromStage);
        const reply = channel.read<ToStage>();
        if (reply.type !== 'continue') throw new Error(`init: expected continue, got ${reply.type}`);
        runHooks('createContainer', plan.createContainerHooks, plan.state);
      },
    });
    if (plan.consoleSocketFd !== undefined) attachConsole(plan.consoleSocketFd, plan.consoleSize);
    // A missing program fails `create`, as with runc, not the later `start`.
    const executable = findExecutable(plan.process.args[0]!, plan.process.env, plan.process.cwd);
    channel.send({ type: 'ready' } satisfies FromStage);
    channel.close();
    waitForStart(plan.fifoFd);
    runHooks('startContainer', plan.startContainerHooks, { ...plan.state, status: 'created' });
    execProcess(plan.process, executable);
  } catch (err) {
    const text = (err as Error).message;
    channel.send({ type: 'error', message: text } satisfies FromStage);
    // After `ready` the parent is gone: the container's stderr is the only witness left.
    process.stderr.write(`tsrunc init: ${text}\n`);
    process.exit(1);
  }
}

main();
