// `tsrunc exec`: one more process in a running container: every namespace of its init (the mount
// namespace joined last, by the exec stage), its cgroup, and the security settings of its spec.
import fs from 'node:fs';
import type { Process, Spec } from '@tsrunc/spec-schemas';
import { connectUnixSocket } from '../console/index.js';
import type { ExecPlan, FromStage } from '../init/protocol.js';
import { planNamespaces, PROC_NS_NAME, type NamespaceType } from '../launch/namespaces.js';
import { EXEC_STAGE } from '../launch/paths.js';
import { callerPreservedFds, startStage } from '../launch/stage.js';
import { planProcess } from '../process/index.js';
import { becomeSubreaper, waitForExit } from '../sys/reap.js';
import { waitForeground } from './foreground.js';
import { reopenCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { writePidFile } from './pid-file.js';
import { statusOf } from './status.js';

export interface ExecOptions {
  id: string;
  process: Process;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

export async function execInContainer(ctx: RuntimeContext, options: ExecOptions): Promise<number> {
  const record = ctx.store.load(options.id);
  const status = statusOf(ctx, record);
  if (status === 'stopped') throw new Error('cannot exec in a stopped container');
  if (status === 'paused' && !options.ignorePaused) throw new Error('cannot exec in a paused container');
  const terminal = options.process.terminal === true;
  if (terminal && !options.consoleSocket && options.detach) throw new Error('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && options.consoleSocket) throw new Error('cannot use console socket if runc will not detach or allocate tty');

  const spec: Spec = { ...record.config, process: options.process };
  // The stage gets the mount namespace at fd 4, the console socket (if any) at 5, then the preserved fds.
  const processPlan = planProcess(spec, { preserveFds: options.preserveFds, preservedFdBase: options.consoleSocket ? 6 : 5 });
  // Every namespace the container has, as its init sees them now, the mount namespace aside.
  const types = Object.keys(record.namespaces) as NamespaceType[];
  const namespaces = planNamespaces(
    types.filter((type) => type !== 'mount').map((type) => ({ type, path: `/proc/${record.pid}/ns/${PROC_NS_NAME[type]}` })),
  );
  const mountNamespaceFd = fs.openSync(`/proc/${record.pid}/ns/mnt`, 'r');
  const consoleFd = options.consoleSocket ? connectUnixSocket(options.consoleSocket) : undefined;
  const cgroup = reopenCgroup(record);
  if (!options.detach) becomeSubreaper();
  try {
    const stage = await startStage({
      script: EXEC_STAGE,
      namespaces,
      keepMountNamespace: true,
      extraFds: [mountNamespaceFd, ...(consoleFd !== undefined ? [consoleFd] : []), ...callerPreservedFds(options.preserveFds)],
      beforeNamespaces: (pid) => cgroup?.addProcess(pid),
    });
    const plan: ExecPlan = {
      process: processPlan,
      mountNamespaceFd: 4,
      ...(consoleFd !== undefined ? { consoleSocketFd: 5 } : {}),
      ...(options.process.consoleSize ? { consoleSize: options.process.consoleSize } : {}),
    };
    stage.channel.send({ type: 'plan', plan });
    const message = await stage.channel.readMessage<FromStage>();
    stage.channel.close();
    if (message?.type === 'error') {
      await waitForExit(stage.pid).catch(() => 0);
      throw new Error(`exec failed: ${message.message}`);
    }
    if (options.pidFile) writePidFile(options.pidFile, stage.pid);
    return options.detach ? 0 : await waitForeground(stage.pid);
  } finally {
    fs.closeSync(mountNamespaceFd);
    if (consoleFd !== undefined) fs.closeSync(consoleFd);
  }
}
