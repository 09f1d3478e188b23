// What checkpoint and restore share: runc's criu options, the image and work directories, and
// the criu arguments both commands pass.
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import { fsError } from '../sys/make-dirs.js';
import type { CriuRpcOptions } from './criu-rpc.js';

export type ManageCgroupsMode = 'soft' | 'full' | 'strict';

/** runc's CriuOpts that both commands take. */
export interface CriuOptions {
  /** Where criu's images go (checkpoint) or come from (restore); created if missing. */
  imagePath: string;
  /** criu's work directory, for its logs; the image directory when absent. */
  workPath?: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  autoDedup?: boolean;
  lazyPages?: boolean;
  manageCgroupsMode?: ManageCgroupsMode;
  /** Namespaces criu creates without restoring what they held: "network" only (always added, as runc does). */
  emptyNs?: string[];
}

/** runc's file in the image directory: where the init's stdio pointed ("pipe:[1234]", a path), by fd. */
export const DESCRIPTORS_FILE = 'descriptors.json';

/** runc's default configuration file for criu, unless the org.criu.config annotation names another (or none, when empty). */
const DEFAULT_CONFIG = '/etc/criu/runc.conf';

export function checkEmptyNs(namespaces: string[] = []): void {
  // runc: it does not manage network devices, so criu never restores the network namespace's.
  const bad = namespaces.find((ns) => ns !== 'network');
  if (bad !== undefined) throw new Error(`namespace "${bad}" is not supported`);
}

/** mkdir that accepts an existing directory (a container is checkpointed and restored again and again). */
export function makeDir(dir: string, mode: number): void {
  try {
    fs.mkdirSync(dir, { mode, recursive: true });
  } catch (err) {
    throw fsError('mkdir', dir, err);
  }
}

/**
 * The image directory, made if missing, and runc's checks of --parent-path: relative to the
 * image directory (criu reads it so), and there.
 */
export function prepareImagePaths(imagePath: string, parentPath?: string): void {
  makeDir(imagePath, 0o700);
  if (!parentPath) return;
  if (path.isAbsolute(parentPath)) throw new Error('--parent-path must be relative');
  const parent = path.join(imagePath, parentPath);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(parent);
  } catch (err) {
    throw new Error(`invalid --parent-path: stat ${parent}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!stat.isDirectory()) throw new Error(`invalid --parent-path: stat ${parent}: not a directory`);
}

/** CLONE_NEWNET: the network namespace, which criu always makes empty for runc (it has no network devices to restore). */
const CLONE_NEWNET = 0x40000000;

/** What both requests carry, with the directories' fds (ours, which criu reopens), closed by `close`. */
export interface CommonRequest {
  options: CriuRpcOptions;
  /** criu's log, as errors name it. */
  logPath: string;
  close(): void;
}

/**
 * The log file a criu configuration file names ("log-file=x" or "log-file x"): criu's RPC lets
 * the file override what we send, so that is the log to name in errors.
 */
function configuredLogFile(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // criu ignores a configuration file that is not there
  }
  return /^\s*(?:--)?log-file[=\s]+(\S+)/m.exec(text)?.[1];
}

function openDir(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    throw fsError('open', dir, err);
  }
}

/**
 * The options of dump and restore alike, as runc sets them: directories, log, configuration
 * file, cgroups, the empty network namespace, the orphan pty master, notifications, and the flags.
 */
export function commonOptions(options: CriuOptions, config: Spec, ownLogFile: string): CommonRequest {
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds.splice(0)) fs.closeSync(fd);
  };
  try {
    const imagesDirFd = openDir(options.imagePath);
    fds.push(imagesDirFd);
    let workDirFd: number | undefined;
    if (options.workPath) {
      makeDir(options.workPath, 0o700);
      workDirFd = openDir(options.workPath);
      fds.push(workDirFd);
    }
    // The org.criu.config annotation names the container's file, or none when empty.
    const configFile = config.annotations?.['org.criu.config'] ?? DEFAULT_CONFIG;
    const logFile = (configFile !== '' ? configuredLogFile(configFile) : undefined) ?? ownLogFile;
    const rpc: CriuRpcOptions = {
      imagesDirFd,
      ...(workDirFd !== undefined ? { workDirFd } : {}),
      logLevel: 4,
      logFile: ownLogFile,
      ...(configFile !== '' ? { configFile } : {}),
      manageCgroups: true,
      ...(options.manageCgroupsMode ? { manageCgroupsMode: options.manageCgroupsMode } : {}),
      emptyNs: CLONE_NEWNET,
      // The container's pty master is outside what criu dumps: it makes a new one on restore and hands it to us.
      orphanPtsMaster: true,
      notifyScripts: true,
      shellJob: options.shellJob === true,
      tcpEstablished: options.tcpEstablished === true,
      extUnixSk: options.extUnixSk === true,
      fileLocks: options.fileLocks === true,
      autoDedup: options.autoDedup === true,
      lazyPages: options.lazyPages === true,
    };
    return { options: rpc, logPath: path.join(options.workPath ?? '', logFile), close };
  } catch (err) {
    close();
    throw err;
  }
}
