// The init stage: runs inside the container's new namespaces (started by the native stage),
// builds the container's root filesystem, then hands over to the native process executor, which
// applies the process' settings, waits for `tsrunc start` on the exec fifo and execs the program.
import { runHooks } from '../hooks/run.js';
import { SYNC_FD } from '../launch/stage.js';
import { mountConsole, setupRootfs } from '../rootfs/index.js';
import { attachConsole } from './console.js';
import { becomeNonDumpable, executorFd, handOverToExecutor } from './handover.js';
import { receiveMountSources } from './mount-sources.js';
import type { FromStage, InitPlan, ToStage } from './protocol.js';
import { SyncChannel } from './sync-channel.js';
import { joinSessionKeyring } from '../sys/keyring.js';
import { koffi } from '../sys/libc.js';

function main(): void {
  const channel = new SyncChannel(SYNC_FD);
  try {
    becomeNonDumpable();
    const message = channel.read<ToStage>();
    if (message.type !== 'plan') throw new Error(`init: expected a plan, got ${message.type}`);
    const plan = message.plan as InitPlan;
    const executor = executorFd();
    // The console's calls (a struct msghdr, in/out ioctl arguments) go through koffi, which is
    // loaded on first use: here, before pivot_root hides node_modules. Everything else the init
    // stage calls is bound through bun:ffi under Bun, or loaded koffi before the pivot under Node.
    if (plan.consoleSocketFd !== undefined) koffi();
    if (plan.sessionKeyring !== undefined) joinSessionKeyring(plan.sessionKeyring);
    const sources = receiveMountSources(channel, plan.mountSources);
    setupRootfs(plan.rootfs, sources, {
      beforePivot() {
        channel.send({ type: 'prePivot' } satisfies FromStage);
        const reply = channel.read<ToStage>();
        if (reply.type !== 'continue') throw new Error(`init: expected continue, got ${reply.type}`);
        // In the container's namespaces, before pivot_root, from the rootfs: runc chdirs there
        // first, and hooks written for it use relative paths (./lib/...).
        runHooks('createContainer', plan.createContainerHooks, plan.state, { cwd: plan.rootfs.rootfs });
      },
      afterPivot() {
        // The pty comes from the container's own devpts, and /dev/console is bound before a
        // read-only root or path could refuse the mount point, as runc orders it.
        if (plan.consoleSocketFd !== undefined) attachConsole(plan.consoleSocketFd, plan.consoleSize, mountConsole);
      },
    });
    // The executor reports `ready` once every setting is applied and the program found, so
    // that any failure fails `create`, as with runc.
    handOverToExecutor(executor, Buffer.from(plan.executorPlan, 'base64'), plan.inheritedFds);
  } catch (err) {
    const text = (err as Error).message;
    try {
      // tsrunc prints it, once, as the command's error.
      channel.send({ type: 'error', message: text } satisfies FromStage);
    } catch {
      // tsrunc is gone or closed the channel: the inherited stderr is the only witness left.
      process.stderr.write(`tsrunc init: ${text}\n`);
    }
    process.exit(1);
  }
}

main();
