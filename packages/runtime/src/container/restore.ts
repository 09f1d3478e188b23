// `tsrunc restore`: a container made again from its bundle and a checkpoint, as runc's Restore
// does it: its cgroup is made from config.json and criu is placed in it, criu restores the
// namespaces and processes on the rootfs (bind mounted, as criu wants its root to be a mount),
// with the bundle's bind sources and the new cgroup mapped onto the external mounts the dump
// named; then the state is written as create writes it, so that state, kill and delete work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import { checkExistingCgroup } from '../cgroups/index.js';
import { ownCgroups } from '../cgroups/mode.js';
import { loadBundle } from '../config/load.js';
import { checkNamespaceRules, planNamespaces, PROC_NS_NAME } from '../launch/namespaces.js';
import { planRootfs } from '../rootfs/plan.js';
import { procStat } from '../state/proc.js';
import { newContainerRecord } from '../state/store.js';
import { MNT_DETACH, MS, mount, umount } from '../sys/mount.js';
import { becomeSubreaper } from '../sys/reap.js';
import { openContainerCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { Criu } from './criu.js';
import { prepareRestoreMountpoints, restoreExternalMounts } from './criu-mounts.js';
import { checkEmptyNs, commonArgs, DESCRIPTORS_FILE, prepareImagePaths, type CriuOptions } from './criu-options.js';
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
  /** TYPE:NAME (apparmor, selinux) for the restored processes. */
  lsmProfile?: string;
  lsmMountContext?: string;
}

/** runc's keys for a network or pid namespace the container joined by path (checkpoint.ts declares them). */
const EXTERNAL_NS: Record<string, string> = { network: 'extRootNetNS', pid: 'extRootPidNS' };

/**
 * The namespaces the container joined by path: network and pid go to criu as inherited fds
 * (criu left them out of the images), the others are joined by criu (`--join-ns`). Returns the
 * arguments; the fds, appended to `fds`, become criu's fds 3, 4, ...
 */
function joinedNamespaces(config: Spec, fds: number[]): string[] {
  const args: string[] = [];
  for (const ns of config.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    const key = EXTERNAL_NS[ns.type];
    if (key !== undefined) {
      try {
        fds.push(fs.openSync(ns.path, 'r'));
      } catch {
        throw new Error(`Requested network namespace ${ns.path} does not exist`);
      }
      args.push('--inherit-fd', `fd[${2 + fds.length}]:${key}`);
    } else if (ns.type === 'cgroup') {
      throw new Error('Do not know how to handle namespace NEWCGROUP');
    } else {
      args.push('--join-ns', `${PROC_NS_NAME[ns.type]}:${ns.path}`);
    }
  }
  return args;
}

/** The init's stdio that were pipes at checkpoint: criu reconnects them to ours (runc's descriptors.json). */
function inheritedPipes(imagePath: string): string[] {
  const file = path.join(imagePath, DESCRIPTORS_FILE);
  let descriptors: unknown;
  try {
    descriptors = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!Array.isArray(descriptors)) throw new Error(`${file}: not a list of descriptors`);
  return descriptors.flatMap((target, fd) => (typeof target === 'string' && target.includes('pipe:') ? ['--inherit-fd', `fd[${fd}]:${target}`] : []));
}

/** The restore's exit code: the init's status once it exits, or 0 when detached. */
export async function restoreContainer(ctx: RuntimeContext, id: string, options: RestoreOptions): Promise<number> {
  const { store } = ctx;
  store.dir(id); // validates the ID before anything else
  const bundle = loadBundle(options.bundle);
  const { config } = bundle;
  // runc hands the pty master back through criu's RPC (orphan-pts-master), which criu's command line lacks.
  if (config.process?.terminal) throw new Error('restore of a container with a terminal is not supported: criu\'s command line cannot hand over its pty master');
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
  const fds: number[] = [];
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

    const pidFile = path.join(store.dir(id), 'restore.pid');
    const { args, logFile } = commonArgs(options, config, 'restore.log');
    args.push(
      '--root', criuRoot, '--restore-detached', '--restore-sibling', '--pidfile', pidFile, '--evasive-devices',
      ...joinedNamespaces(config, fds),
      ...pipes,
      ...restoreExternalMounts(rootfsPlan, record.cgroup).flatMap((m) => ['--external', m]),
    );
    if (options.lsmProfile) args.push('--lsm-profile', options.lsmProfile);
    if (options.lsmMountContext) args.push('--lsm-mount-context', options.lsmMountContext);
    // With --restore-sibling the init is our child: a foreground restore waits for it.
    if (!options.detach && !options.noSubreaper) becomeSubreaper();
    ctx.log.debug?.(`criu restore ${args.join(' ')}`);
    await criu.run('restore', args, {
      logFile,
      ...(options.workPath ? { workDir: options.workPath } : {}),
      fds,
      gated: (pid) => {
        cgroup.addProcess(pid);
        // v1: each hierarchy's processes go where criu now is, as runc's CgRoot says (v2: they follow criu).
        if (record.cgroup?.version !== 1) return [];
        const own = ownCgroups(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
        return Object.entries(own).filter(([controller]) => controller !== '').flatMap(([controller, at]) => ['--cgroup-root', `${controller}:${at}`]);
      },
    });

    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    fs.rmSync(pidFile);
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
    for (const fd of fds) fs.closeSync(fd);
    lock.release();
  }
  if (options.detach) return 0;
  const code = await waitForeground(record.pid);
  deleteContainer(ctx, id, true);
  return code;
}
