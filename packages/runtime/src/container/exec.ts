// `tsrunc exec`: one more process in a running container: every namespace of its init, its
// cgroup, and the security settings of its spec. The native stage joins them all and becomes the
// process itself: nothing of Node, nor of the host, runs inside the container (see native/).
import fs from 'node:fs';
import type { Process, Spec } from '@tsrunc/spec-schemas';
import { connectUnixSocket } from '../console/index.js';
import type { FromStage } from '../init/protocol.js';
import { planNamespaces, PROC_NS_NAME, type NamespaceType } from '../launch/namespaces.js';
import { callerPreservedFds, startStage } from '../launch/stage.js';
import { encodeProcessPlan, planProcess } from '../process/index.js';
import { becomeSubreaper, waitForExit } from '../sys/reap.js';
import { waitForeground } from './foreground.js';
import { reopenCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { writePidFile } from './pid-file.js';
import { requireStatus } from '../state/status.js';
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
  if (!(status === 'paused' && options.ignorePaused)) requireStatus('exec', status, options.id);
  const terminal = options.process.terminal === true;
  if (terminal && !options.consoleSocket && options.detach) throw new Error('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && options.consoleSocket) throw new Error('cannot use console socket if runc will not detach or allocate tty');

  const spec: Spec = { ...record.config, process: options.process };
  // The native stage gets the console socket (if any) at fd 4, then the preserved fds.
  const processPlan = planProcess(spec, { preserveFds: options.preserveFds, preservedFdBase: options.consoleSocket ? 5 : 4 });
  // Every namespace the container has, as its init sees them now; the user namespace first.
  const types = Object.keys(record.namespaces) as NamespaceType[];
  const namespaces = planNamespaces(types.map((type) => ({ type, path: `/proc/${record.pid}/ns/${PROC_NS_NAME[type]}` })));
  const consoleFd = options.consoleSocket ? connectUnixSocket(options.consoleSocket) : undefined;
  const executorPlan = encodeProcessPlan(processPlan, {
    ...(consoleFd !== undefined ? { console: { socketFd: 4, ...(options.process.consoleSize ? { size: options.process.consoleSize } : {}) } } : {}),
  });
  const cgroup = reopenCgroup(record);
  if (!options.detach) becomeSubreaper();
  try {
    ctx.log.debug?.(`=> nsexec container setup: joining the namespaces of init ${record.pid}`);
    const stage = await startStage({
      args: ['--exec'],
      namespaces,
      extraFds: [...(consoleFd !== undefined ? [consoleFd] : []), ...callerPreservedFds(options.preserveFds)],
      beforeNamespaces: (pid) => cgroup?.addProcess(pid),
    });
    ctx.log.debug?.(`child process in init(): pid ${stage.pid}, sending it the process plan`);
    stage.channel.write(executorPlan);
    ctx.log.debug?.(`setns_init: about to exec ${options.process.args?.[0] ?? ''}`);
    // Nothing comes back when the program was exec'd: the socket closes (close-on-exec).
    const message = await stage.channel.readMessage<FromStage>();
    stage.channel.close();
    if (message?.type === 'error') {
      await waitForExit(stage.pid).catch(() => 0);
      throw new Error(`exec failed: ${message.message}`);
    }
    if (options.pidFile) writePidFile(options.pidFile, stage.pid);
    return options.detach ? 0 : await waitForeground(stage.pid);
  } finally {
    if (consoleFd !== undefined) fs.closeSync(consoleFd);
  }
}
