// The criu binary as checkpoint and restore drive it: its RPC ("criu swrk", runc's way), which
// alone hands back a restored pty master and tells of each restore step (hooks run on
// setup-namespaces), with runc's version and feature checks (criu's command line) and runc's
// words when criu fails.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { recvMessage, SOCK_SEQPACKET, socketPair } from '../console/index.js';
import { decodeResponse, encodeRequest, REQUEST, type CriuResponse, type CriuRpcOptions, type RequestType } from './criu-rpc.js';

/** runc relies on criu's version call, which came with criu 3.0.0. */
const MIN_VERSION = 30000;

/**
 * `criu check` without the default configuration files: one naming a log file would have each
 * probe leave a log in the caller's directory; without it criu tells stderr.
 */
const PROBE = ['check', '--no-default-config'];

/** criu's answers are small; runc reads them into 40 KiB. */
const RESPONSE_SIZE = 64 * 1024;

export interface RpcCall {
  /** criu's log as errors name it: relative to the work directory given, else as criu was told. */
  logPath: string;
  /** Fds of ours that become criu's fds 4, 5, ... (3 is the RPC socket); ours stay open for the caller to close. */
  fds?: number[];
  /** Called with criu's pid before the request is sent (restore places criu in the container's cgroup); returns more options. */
  beforeRequest?: (pid: number) => Partial<CriuRpcOptions>;
  /** A notification of criu's (its action scripts: setup-namespaces, orphan-pts-master, status-ready...), with the fd it sent, which is closed after. */
  onNotify?: (script: string, pid: number | undefined, fd: number | undefined) => void;
}

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
   * Runs one request through `criu swrk`, answering its notifications, and returns criu's final
   * response. criu's stdio is ours, which a restored process inherits (inheritFds 0-2).
   */
  async rpc(type: Exclude<RequestType, 'NOTIFY'>, options: CriuRpcOptions, call: RpcCall): Promise<CriuResponse> {
    const [ours, theirs] = socketPair(SOCK_SEQPACKET);
    let child;
    try {
      child = spawn(this.binary, ['swrk', '3'], { stdio: ['inherit', 'inherit', 'inherit', theirs, ...(call.fds ?? [])] });
    } catch (err) {
      fs.closeSync(ours);
      throw err;
    } finally {
      fs.closeSync(theirs); // criu's end only in criu: its exit ends the connection
    }
    const exited = new Promise<number | string>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`exec ${this.binary}: ${err.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    // runc: "criu failed: type DUMP errno 0", the log, then (ours) criu's first error, when it said one.
    const failed = (how: string, said?: string) => new Error(`criu failed: type ${type} ${how}; log file: ${call.logPath}${said ? `; criu: ${said.trim()}` : ''}`);
    let response: CriuResponse;
    try {
      if (child.pid === undefined) throw await exited.then(() => new Error(`exec ${this.binary}: no process`), (err: Error) => err);
      fs.writeSync(ours, encodeRequest(type, { ...options, ...call.beforeRequest?.(child.pid) }));
      for (;;) {
        const { data, fd } = recvMessage(ours, RESPONSE_SIZE, 'criu\'s response');
        if (data.length === 0) throw failed('without a response');
        try {
          response = decodeResponse(data);
          if (!response.success) throw failed(`errno ${response.errno ?? 0}`, response.errmsg);
          if (response.type !== REQUEST.NOTIFY) break;
          call.onNotify?.(response.notify?.script ?? '', response.notify?.pid, fd);
        } finally {
          if (fd !== undefined) fs.closeSync(fd);
        }
        fs.writeSync(ours, encodeRequest('NOTIFY', undefined, true));
      }
      if (response.type !== REQUEST[type]) throw failed(`with a response of type ${response.type}`);
    } catch (err) {
      // Closing our end makes criu give up (and kill what it was restoring).
      fs.closeSync(ours);
      await exited.catch(() => undefined);
      throw err;
    }
    fs.closeSync(ours);
    const status = await exited;
    // A pre-dump's criu waits for the next request of a series; the closed socket ends it with a failure.
    if (status !== 0 && type !== 'PRE_DUMP') throw failed(typeof status === 'number' ? `exit status ${status}` : `killed by ${status}`);
    return response;
  }
}
