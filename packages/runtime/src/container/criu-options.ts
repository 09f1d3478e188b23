// What checkpoint and restore share: runc's criu options, the image and work directories, and
// the criu arguments both commands pass.
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import { fsError } from '../sys/make-dirs.js';

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

/**
 * The options a criu configuration file sets, by name ("log-file" for "log-file=x" or "log-file x").
 * runc's RPC lets the file override what runc sends; on criu's command line the command line
 * wins, so we leave what the file sets to it.
 */
function optionsSetBy(file: string): Set<string> {
  const lines = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return new Set(lines.map((l) => l.replace(/^--/, '').split(/[=\s]/)[0]!));
}

/**
 * The arguments of dump and restore alike (directories, log, the flags runc passes to both), and
 * the log file criu writes, relative to the work directory: ours, or the configuration file's.
 */
export function commonArgs(options: CriuOptions, config: Spec, ownLogFile: string): { args: string[]; logFile: string } {
  const args = ['--images-dir', options.imagePath, '-v4'];
  if (options.workPath) {
    makeDir(options.workPath, 0o700);
    args.push('--work-dir', options.workPath);
  }
  const annotation = config.annotations?.['org.criu.config'];
  const configFile = annotation ?? DEFAULT_CONFIG;
  // The RPC runc speaks ignores a configuration file that is not there; criu's command line does not.
  const useConfig = configFile !== '' && fs.existsSync(configFile);
  const setByConfig = useConfig ? optionsSetBy(configFile) : new Set<string>();
  if (useConfig) args.push('--config', configFile);
  const named: [string, ...string[]][] = [
    ['log-file', ownLogFile],
    [options.manageCgroupsMode ? `manage-cgroups=${options.manageCgroupsMode}` : 'manage-cgroups'],
    ['empty-ns', 'net'],
  ];
  for (const [flag, on] of [['shell-job', options.shellJob], ['tcp-established', options.tcpEstablished], ['ext-unix-sk', options.extUnixSk],
    ['file-locks', options.fileLocks], ['auto-dedup', options.autoDedup], ['lazy-pages', options.lazyPages]] as const) {
    if (on) named.push([flag]);
  }
  for (const [flag, ...values] of named) {
    if (!setByConfig.has(flag.split('=')[0]!)) args.push(`--${flag}`, ...values);
  }
  const configLog = /^log-file[=\s]+(\S+)/m.exec(useConfig && setByConfig.has('log-file') ? fs.readFileSync(configFile, 'utf8') : '');
  return { args, logFile: configLog?.[1] ?? ownLogFile };
}
