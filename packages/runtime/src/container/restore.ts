// `tsrunc restore`: a container made again from its bundle and a checkpoint, as runc's Restore
// does it: its cgroup is made from config.json and criu is placed in it, criu restores the
// namespaces and processes on the rootfs (bind mounted, as criu wants its root to be a mount),
// with the bundle's bind sources and the new cgroup mapped onto the external mounts the dump
// named; then the state is written as create writes it, so that state, kill and delete work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Spec, State } from '@tsrunc/spec-schemas';
import { checkExistingCgroup } from '../cgroups/index.js';
import { ownCgroups } from '../cgroups/mode.js';
import { loadBundle } from '../config/load.js';
import { connectUnixSocket, sendFd } from '../console/index.js';
import { runHooks } from '../hooks/run.js';
import { checkNamespaceRules, planNamespaces, PROC_NS_NAME } from '../launch/namespaces.js';
import { planRootfs } from '../rootfs/plan.js';
import { procStat } from '../state/proc.js';
import { stateDocument } from '../state/status.js';
import { newContainerRecord } from '../state/store.js';
import { MNT_DETACH, MS, mount, umount } from '../sys/mount.js';
import { becomeSubreaper } from '../sys/reap.js';
import { openContainerCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { Criu } from './criu.js';
import { prepareRestoreMountpoints, restoreExternalMounts } from './criu-mounts.js';
import { checkEmptyNs, commonOptions, DESCRIPTORS_FILE, prepareImagePaths, type CriuOptions } from './criu-options.js';
import type { CriuRpcOptions } from './criu-rpc.js';
import { deleteContainer } from './delete.js';
import { waitForeground } from './foreground.js';
import { writePidFile } from './pid-file.js';
import { killProcesses } from './teardown.js';
import { UndoStack } from './undo.js';

export interface RestoreOptions extends CriuOptions {
  bundle: string;
  /** Return once restored, instead of waiting for the init and deleting the container. */
  detach: boolean;
  pidFile?: string;
  noPivot: boolean;
  /** Do not become a subreaper while waiting (a foreground restore). */
  noSubreaper: boolean;
  /** Where the restored terminal's pty master goes (runc's --console-socket), for a config with process.terminal. */
  consoleSocket?: string;
  /** TYPE:NAME (apparmor, selinux) for the restored processes. */
  lsmProfile?: string;
  lsmMountContext?: string;
}

/** runc's keys for a network or pid namespace the container joined by path (checkpoint.ts declares them). */
const EXTERNAL_NS: Record<string, string> = { network: 'extRootNetNS', pid: 'extRootPidNS' };

/**
 * The namespaces the container joined by path: network and pid go to criu as inherited fds
 * (criu left them out of the images), the others are joined by criu. The fds, appended to
 * `fds`, become criu's fds 4, 5, ...
 */
function joinedNamespaces(config: Spec, fds: number[]): Required<Pick<CriuRpcOptions, 'inheritFds' | 'joinNs'>> {
  const inheritFds: { key: string; fd: number }[] = [];
  const joinNs: { ns: string; file: string }[] = [];
  for (const ns of config.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    const key = EXTERNAL_NS[ns.type];
    if (key !== undefined) {
      try {
        fds.push(fs.openSync(ns.path, 'r'));
      } catch {
        throw new Error(`Requested network namespace ${ns.path} does not exist`);
      }
      inheritFds.push({ key, fd: 3 + fds.length });
    } else if (ns.type === 'cgroup') {
      throw new Error('Do not know how to handle namespace NEWCGROUP');
    } else {
      joinNs.push({ ns: PROC_NS_NAME[ns.type], file: ns.path });
    }
  }
  return { inheritFds, joinNs };
}

/** The init's stdio that were pipes at checkpoint: criu reconnects them to ours, its fds 0-2 (runc's descriptors.json). */
function inheritedPipes(imagePath: string): { key: string; fd: number }[] {
  const file = path.join(imagePath, DESCRIPTORS_FILE);
  let descriptors: unknown;
  try {
    descriptors = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!Array.isArray(descriptors)) throw new Error(`${file}: not a list of descriptors`);
  return descriptors.flatMap((target, fd) => (typeof target === 'string' && target.includes('pipe:') ? [{ key: target, fd }] : []));
}

/** The restore's exit code: the init's status once it exits, or 0 when detached. */
export async function restoreContainer(ctx: RuntimeContext, id: string, options: RestoreOptions): Promise<number> {
  const { store } = ctx;
  store.dir(id); // validates the ID before anything else
  const bundle = loadBundle(options.bundle);
  const { config } = bundle;
  const terminal = config.process?.terminal === true;
  // A terminal's new pty master goes to the console socket; relaying it in the foreground is not done.
  if (terminal && !options.consoleSocket) throw new Error('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && options.consoleSocket) throw new Error('cannot use console socket if runc will not detach or allocate tty');
  const namespaces = planNamespaces(config.linux?.namespaces);
  checkNamespaceRules(namespaces, config.linux);
  checkEmptyNs(options.emptyNs);
  const rootfsPlan = planRootfs(config, { bundle: bundle.dir, rootfs: bundle.rootfs, noPivot: options.noPivot });
  prepareImagePaths(options.imagePath);
  const criu = new Criu(ctx.criuPath);
  // criu before 3.16 cannot set another LSM profile (runc's check).
  if (criu.version() < 31600 && (options.lsmProfile || options.lsmMountContext)) {
    throw new Error(`--${options.lsmProfile ? 'lsm-profile' : 'lsm-mount-context'} requires at least CRIU 3.16`);
  }
  const pipes = inheritedPipes(options.imagePath);

  const cgroup = openContainerCgroup(ctx, id, config);
  checkExistingCgroup(cgroup, (message) => ctx.log.warn(message));
  const record = newContainerRecord(id, bundle, config, cgroup.toJSON());
  // As create: the record names what a step may make before the step begins (store.ts).
  const lock = store.claim(record);
  const undo = new UndoStack();
  /** What only criu needs (its root, the temporary binds), undone whatever happens, newest first. */
  const cleanups: { what: string; run: () => void }[] = [];
  const releaseMounts = (): void => {
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup.run();
      } catch (err) {
        ctx.log.warn(`restore: ${cleanup.what}: ${(err as Error).message}`);
      }
    }
    cleanups.length = 0;
  };
  /** Ours that criu gets as its fds 4, 5, ...: namespaces joined by path. */
  const fds: number[] = [];
  let consoleFd: number | undefined;
  undo.push('remove state dir', () => store.remove(id));
  try {
    undo.push('remove cgroup', () => cgroup.destroy());
    cgroup.create();
    undo.push('kill restored processes', () => killProcesses(cgroup, undefined));

    // criu wants its root to be a mount point whose parent is not overmounted. Not in the state
    // dir (runc's place): a restore killed here would leave it mounted, and delete's removal of
    // the state dir would then reach into the rootfs.
    const criuRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-criu-root-'));
    cleanups.push({ what: `rmdir ${criuRoot}`, run: () => fs.rmdirSync(criuRoot) });
    cleanups.push({ what: 'unmount the mountpoints\' temporary binds', run: prepareRestoreMountpoints(rootfsPlan) });
    mount(bundle.rootfs, criuRoot, '', MS.BIND | MS.REC, '', `bind ${bundle.rootfs} on ${criuRoot}`);
    cleanups.push({ what: `unmount ${criuRoot}`, run: () => umount(criuRoot, MNT_DETACH) });

    const common = commonOptions(options, config, 'restore.log');
    cleanups.push({ what: 'close criu\'s directories', run: common.close });
    if (options.consoleSocket) consoleFd = connectUnixSocket(options.consoleSocket);
    const joined = joinedNamespaces(config, fds);
    const restore: CriuRpcOptions = {
      ...common.options,
      root: criuRoot,
      // The restored init becomes our child: a foreground restore waits for it.
      restoreSibling: true,
      evasiveDevices: true,
      inheritFds: [...pipes, ...joined.inheritFds],
      joinNs: joined.joinNs,
      external: restoreExternalMounts(rootfsPlan, record.cgroup),
      ...(options.lsmProfile ? { lsmProfile: options.lsmProfile } : {}),
      ...(options.lsmMountContext ? { lsmMountContext: options.lsmMountContext } : {}),
    };
    if (!options.detach && !options.noSubreaper) becomeSubreaper();
    ctx.log.debug?.(`criu restore: ${JSON.stringify(restore)}`);
    const response = await criu.rpc('RESTORE', restore, {
      logPath: common.logPath,
      fds,
      beforeRequest: (pid) => {
        cgroup.addProcess(pid);
        // v1: each hierarchy's processes go where criu now is, as runc's CgRoot says (v2: they follow criu).
        if (record.cgroup?.version !== 1) return {};
        const own = ownCgroups(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
        return { cgroupRoots: Object.entries(own).filter(([controller]) => controller !== '').map(([controller, at]) => ({ controller, path: at })) };
      },
      onNotify: (script, pid, fd) => {
        // The namespaces exist, nothing runs in them yet: the hooks create runs before pivot_root.
        if (script === 'setup-namespaces' && pid !== undefined) {
          const state: State = { ...stateDocument(record, 'creating'), pid };
          runHooks('prestart', config.hooks?.prestart, state);
          runHooks('createRuntime', config.hooks?.createRuntime, state);
        }
        if (script === 'orphan-pts-master' && fd !== undefined && consoleFd !== undefined) sendFd(consoleFd, fd, script);
      },
    });
    const pid = response.restoredPid;
    if (pid === undefined) throw new Error('criu restored the container without naming its init');
    record.pid = pid;
    record.pidStartTime = procStat(pid)?.startTime ?? '';
    record.created = new Date().toISOString();
    record.namespaces = Object.fromEntries([...namespaces.all].map((type) => [type, `/proc/${pid}/ns/${PROC_NS_NAME[type]}`]));
    delete record.creating;
    store.save(record);
    if (options.pidFile) writePidFile(options.pidFile, pid);
  } catch (err) {
    // Unmounted before the undo, which kills what criu may have restored and removes the cgroup.
    releaseMounts();
    const failure = undo.unwind();
    if (failure !== undefined) ctx.log.warn(`cleanup after failed restore: ${failure}; delete --force ${id} retries it`);
    throw err;
  } finally {
    releaseMounts();
    for (const fd of consoleFd !== undefined ? [...fds, consoleFd] : fds) fs.closeSync(fd);
    lock.release();
  }
  if (options.detach) return 0;
  const code = await waitForeground(record.pid);
  deleteContainer(ctx, id, true);
  return code;
}
