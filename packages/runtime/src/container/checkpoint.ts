// `tsrunc checkpoint`: criu dumps the container's process tree (from its init) into an image
// directory, as runc's Checkpoint drives it. Without --leave-running (or --pre-dump) criu kills
// the processes once dumped: the container is then stopped, and the CLI deletes it, as runc does.
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import { planRootfs } from '../rootfs/plan.js';
import { waitGone } from '../state/proc.js';
import { requireStatus } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';
import { Criu } from './criu.js';
import { dumpExternalMounts } from './criu-mounts.js';
import { checkEmptyNs, commonOptions, DESCRIPTORS_FILE, prepareImagePaths, type CriuOptions } from './criu-options.js';
import type { CriuRpcOptions } from './criu-rpc.js';
import { statusOf } from './status.js';

export interface CheckpointOptions extends CriuOptions {
  /** A previous (pre-)dump, relative to imagePath: only pages changed since are written. */
  parentPath?: string;
  leaveRunning?: boolean;
  /** Write the memory only, and leave the container running: the parent of a later dump. */
  preDump?: boolean;
  /** Send the pages to criu's page server there instead (with lazyPages: serve them there). */
  pageServer?: { address: string; port: number };
  /** With lazyPages: a writable fd of ours that gets "\0" once the pages are served. */
  statusFd?: number;
}

/** The key under which runc declares a namespace the container joined by path as external. */
const EXTERNAL_NS = { network: ['net', 'extRootNetNS'], pid: ['pid', 'extRootPidNS'] } as const;

/**
 * `--external net[INODE]:extRootNetNS` for a network or pid namespace the container joined by
 * path: criu leaves it out of the images, and restore puts the container back into it.
 */
function externalNamespaces(config: Spec): string[] {
  return (config.linux?.namespaces ?? []).flatMap((ns) => {
    if (!ns.path || !(ns.type in EXTERNAL_NS)) return [];
    const [name, key] = EXTERNAL_NS[ns.type as keyof typeof EXTERNAL_NS];
    return [`${name}[${fs.statSync(ns.path).ino}]:${key}`];
  });
}

/** runc's check of --status-fd: an open fd of ours that criu can write to. */
function checkStatusFd(fd: number): void {
  let flags: string | undefined;
  try {
    flags = /^flags:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  } catch {
    throw new Error(`invalid --status-fd argument ${fd}: bad file descriptor`);
  }
  if (flags === undefined || (parseInt(flags, 8) & 3) === 0) throw new Error(`invalid --status-fd argument ${fd}: not writable`);
}

/** Where the init's stdio points, which restore hands back to criu for the pipes among them. */
function writeDescriptors(imagePath: string, pid: number): void {
  const targets = [0, 1, 2].map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '/dev/null';
    }
  });
  fs.writeFileSync(path.join(imagePath, DESCRIPTORS_FILE), JSON.stringify(targets), { mode: 0o600 });
}

/** criu_opts of the dump (or pre-dump) of the container's init tree. */
function dumpOptions(record: ContainerRecord, options: CheckpointOptions, common: CriuRpcOptions): CriuRpcOptions {
  const dump: CriuRpcOptions = { ...common, pid: record.pid, root: record.rootfs, external: externalNamespaces(record.config) };
  // criu freezes the container through its cgroup's freezer (else it ptraces each process).
  const cgroup = record.cgroup;
  const freezer = cgroup?.version === 2 ? cgroup.paths.unified : cgroup?.paths.freezer;
  if (freezer !== undefined) dump.freezeCgroup = freezer;
  if (options.leaveRunning) dump.leaveRunning = true;
  if (options.parentPath) Object.assign(dump, { parentImg: options.parentPath, trackMem: true });
  // Lazy pages: this dump serves the pages there; else it sends them to a page server there.
  if (options.pageServer) dump.pageServer = options.pageServer;
  return dump;
}

export async function checkpointContainer(ctx: RuntimeContext, id: string, options: CheckpointOptions): Promise<void> {
  const lock = ctx.store.lock(id);
  try {
    const record = ctx.store.load(id);
    requireStatus('checkpoint', statusOf(ctx, record), id);
    checkEmptyNs(options.emptyNs);
    prepareImagePaths(options.imagePath, options.parentPath);
    const criu = new Criu(ctx.criuPath);
    criu.version();
    if (options.preDump) criu.requireFeature('mem_dirty_track');
    if (options.lazyPages) {
      criu.requireFeature('uffd-noncoop');
      if (options.statusFd !== undefined) checkStatusFd(options.statusFd);
    }
    const common = commonOptions(options, record.config, 'dump.log');
    try {
      const dump = dumpOptions(record, options, common.options);
      // A pre-dump writes memory only: no mounts nor descriptors to name.
      if (!options.preDump) {
        const plan = planRootfs(record.config, { bundle: record.bundle, rootfs: record.rootfs, noPivot: false });
        dump.external!.push(...dumpExternalMounts(plan, record.pid, record.cgroup));
        writeDescriptors(options.imagePath, record.pid);
      }
      ctx.log.debug?.(`criu ${options.preDump ? 'pre-dump' : 'dump'}: ${JSON.stringify(dump)}`);
      const statusFd = options.lazyPages ? options.statusFd : undefined;
      // A lazy dump lasts until another host has taken every page, if ever: delete --force must
      // be able to end the container meanwhile (runc holds no lock across commands at all).
      if (options.lazyPages) lock.release();
      await criu.rpc(options.preDump ? 'PRE_DUMP' : 'DUMP', dump, {
        logPath: common.logPath,
        // Lazy pages: the caller learns that the pages are being served when criu tells us.
        onNotify: (script) => {
          if (script === 'status-ready' && statusFd !== undefined) fs.writeSync(statusFd, Buffer.from([0]));
        },
      });
    } finally {
      common.close();
    }
    // criu has killed what it dumped; the init may still be exiting, and the caller (the CLI's
    // delete) must find the container stopped.
    if (!options.leaveRunning && !options.preDump && !waitGone(record.pid, record.pidStartTime, 10_000)) {
      throw new Error(`container init ${record.pid} still runs after criu dumped it`);
    }
  } finally {
    lock.release();
  }
}
