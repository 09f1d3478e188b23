// The criu binary as checkpoint and restore drive it: through its command line (runc speaks its
// RPC protocol, which needs protobuf; every option runc sends has a command-line twin but the
// orphan pts master, which a container with a terminal needs), with runc's version and feature
// checks and runc's words when criu fails.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

/** runc relies on criu's version call, which came with criu 3.0.0. */
const MIN_VERSION = 30000;

/**
 * `criu check` without the default configuration files: one naming a log file would have each
 * probe leave a log in the caller's directory; without it criu tells stderr.
 */
const PROBE = ['check', '--no-default-config'];

export type CriuAction = 'dump' | 'pre-dump' | 'restore';

/** runc's request type names, which its error messages carry. */
const REQUEST_TYPE: Record<CriuAction, string> = { dump: 'DUMP', 'pre-dump': 'PRE_DUMP', restore: 'RESTORE' };

/** The binary runc's --criu names ("criu", found on PATH, by default). */
export class Criu {
  constructor(readonly binary: string = 'criu') {}

  /** criu's version as runc numbers it (3.17.1 -> 31701); fails as runc does when it cannot be run or is too old. */
  version(): number {
    const r = spawnSync(this.binary, ['--version'], { encoding: 'utf8' });
    if (r.error) {
      const reason = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `exec: "${this.binary}": executable file not found in $PATH` : r.error.message;
      throw new Error(`CRIU version check failed: ${reason}`);
    }
    const m = /Version: (\d+)\.(\d+)(?:\.(\d+))?/.exec(r.stdout);
    if (!m) throw new Error(`CRIU version check failed: unexpected output of ${this.binary} --version: ${r.stdout.trim() || r.stderr.trim()}`);
    const found = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3] ?? 0);
    if (found < MIN_VERSION) throw new Error(`CRIU version ${found} must be ${MIN_VERSION} or higher`);
    return found;
  }

  /** runc's feature checks: pre-dump needs memory tracking, lazy pages userfaultfd. */
  requireFeature(feature: 'mem_dirty_track' | 'uffd-noncoop'): void {
    const r = spawnSync(this.binary, [...PROBE, '--feature', feature], { encoding: 'utf8' });
    if (r.status === 0) return;
    // criu says "... is not supported" when it could check; anything else (it could not even
    // read the kernel's facts, as on kernels newer than it knows) is a failed check.
    throw new Error(/is not supported/.test(`${r.stdout}${r.stderr}`) ? 'CRIU is missing features' : 'CRIU feature check failed');
  }

  /** Why criu cannot checkpoint on this kernel (`criu check`'s first error), or undefined if it can. */
  static unusableReason(binary = 'criu'): string | undefined {
    const r = spawnSync(binary, PROBE, { encoding: 'utf8' });
    if (r.error) return `${binary}: ${r.error.message}`;
    if (r.status === 0) return undefined;
    const output = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
    return output.find((l) => /Error/.test(l)) ?? output[0] ?? `criu check exited ${r.status}`;
  }

  /**
   * Runs `criu ACTION args`. `fds` become criu's fds 3, 4, ... (ours stay open for the caller to
   * close); its stdio is ours, which a restored process inherits. `gated` gets criu's pid before
   * criu starts and returns more arguments for it (one line each); if it throws, criu never runs.
   */
  async run(action: CriuAction, args: string[], options: { logFile: string; workDir?: string; fds?: number[]; gated?: (pid: number) => string[] }): Promise<void> {
    const argv = [action, ...args];
    const fds = options.fds ?? [];
    // A gated start: criu is exec'd by a shell that first reads arguments from the fd after
    // `fds`, up to an empty line, so that the caller places it (in the container's cgroup) and
    // names that place to it before it does anything, as runc does before it sends criu swrk
    // its request.
    const gateFd = 3 + fds.length;
    const gated = options.gated;
    const gate = `while IFS= read -r a <&${gateFd} && [ -n "$a" ]; do set -- "$@" "$a"; done; exec ${gateFd}<&-; exec "$0" "$@"`;
    const [file, fileArgs] = gated ? ['/bin/sh', ['-c', gate, this.binary, ...argv]] : [this.binary, argv];
    const stdio: ('inherit' | 'pipe' | number)[] = ['inherit', 'inherit', 'inherit', ...fds, ...(gated ? ['pipe' as const] : [])];
    const child = spawn(file, fileArgs, { stdio });
    const exited = new Promise<number | string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    if (gated) {
      let more: string[];
      try {
        more = gated(child.pid!);
        const bad = more.find((a) => a === '' || a.includes('\n'));
        if (bad !== undefined) throw new Error(`criu argument ${JSON.stringify(bad)} cannot be passed through the gate`);
      } catch (err) {
        child.kill('SIGKILL');
        await exited.catch(() => undefined);
        throw err;
      }
      (child.stdio[gateFd] as NodeJS.WritableStream).end(more.map((a) => `${a}\n`).join('') + '\n');
    }
    const status = await exited.catch((err: Error) => {
      throw new Error(`exec ${this.binary}: ${err.message}`);
    });
    if (status !== 0) {
      // runc: "criu failed: type DUMP errno 0\nlog file: work-dir/dump.log"; the command line
      // gives us an exit status where the RPC gives an errno, and one line reads better in a log.
      throw new Error(`criu failed: type ${REQUEST_TYPE[action]} ${typeof status === 'number' ? `exit status ${status}` : `killed by ${status}`}; log file: ${path.join(options.workDir ?? '', options.logFile)}`);
    }
  }
}
