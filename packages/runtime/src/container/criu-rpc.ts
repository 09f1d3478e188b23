// criu's RPC messages (its images/rpc.proto: criu_req, criu_opts, criu_resp, criu_notify), the
// part of them checkpoint and restore use, written and read with our protobuf wire format.
import { int32Field, messageField, MessageWriter, readMessage, stringField } from './protobuf.js';

/** criu_req_type. */
export const REQUEST = { DUMP: 1, RESTORE: 2, PRE_DUMP: 4, NOTIFY: 6 } as const;
export type RequestType = keyof typeof REQUEST;

/** criu_cg_mode, by runc's --manage-cgroups-mode names. */
const CGROUP_MODE = { soft: 3, full: 4, strict: 5 } as const;

/** criu_opts: the fields runc's checkpoint and restore set. fds are the caller's (dirs, status) or criu's (inheritFd). */
export interface CriuRpcOptions {
  imagesDirFd: number;
  pid?: number;
  leaveRunning?: boolean;
  extUnixSk?: boolean;
  tcpEstablished?: boolean;
  evasiveDevices?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  logLevel?: number;
  logFile?: string;
  pageServer?: { address: string; port: number };
  notifyScripts?: boolean;
  root?: string;
  parentImg?: string;
  trackMem?: boolean;
  autoDedup?: boolean;
  workDirFd?: number;
  manageCgroups?: boolean;
  cgroupRoots?: { controller: string; path: string }[];
  restoreSibling?: boolean;
  inheritFds?: { key: string; fd: number }[];
  manageCgroupsMode?: keyof typeof CGROUP_MODE;
  external?: string[];
  /** CLONE_NEW* flags of namespaces criu makes empty. */
  emptyNs?: number;
  joinNs?: { ns: string; file: string }[];
  freezeCgroup?: string;
  lazyPages?: boolean;
  statusFd?: number;
  orphanPtsMaster?: boolean;
  configFile?: string;
  lsmProfile?: string;
  lsmMountContext?: string;
}

function encodeOptions(o: CriuRpcOptions): MessageWriter {
  const w = new MessageWriter()
    .int(1, o.imagesDirFd).int(2, o.pid).bool(3, o.leaveRunning).bool(4, o.extUnixSk).bool(5, o.tcpEstablished)
    .bool(6, o.evasiveDevices).bool(7, o.shellJob).bool(8, o.fileLocks).int(9, o.logLevel).string(10, o.logFile)
    .message(11, o.pageServer && new MessageWriter().string(1, o.pageServer.address).int(2, o.pageServer.port))
    .bool(12, o.notifyScripts).string(13, o.root).string(14, o.parentImg).bool(15, o.trackMem).bool(16, o.autoDedup)
    .int(17, o.workDirFd).bool(24, o.manageCgroups);
  for (const { controller, path } of o.cgroupRoots ?? []) w.message(25, new MessageWriter().string(1, controller).string(2, path));
  w.bool(26, o.restoreSibling);
  for (const { key, fd } of o.inheritFds ?? []) w.message(27, new MessageWriter().string(1, key).int(2, fd));
  w.int(34, o.manageCgroupsMode && CGROUP_MODE[o.manageCgroupsMode]).strings(37, o.external).int(38, o.emptyNs);
  for (const { ns, file } of o.joinNs ?? []) w.message(39, new MessageWriter().string(1, ns).string(2, file));
  return w.string(44, o.freezeCgroup).bool(48, o.lazyPages).int(49, o.statusFd).bool(50, o.orphanPtsMaster)
    .string(51, o.configFile).string(53, o.lsmProfile).string(63, o.lsmMountContext);
}

/** criu_req: an action with its options, or the answer to a notification. */
export function encodeRequest(type: RequestType, options?: CriuRpcOptions, notifySuccess?: boolean): Buffer {
  return new MessageWriter().int(1, REQUEST[type]).message(2, options && encodeOptions(options)).bool(3, notifySuccess).finish();
}

/** criu_resp, as far as we read it. */
export interface CriuResponse {
  type: number;
  success: boolean;
  /** criu_restore_resp's pid: the restored tree's root. */
  restoredPid?: number;
  notify?: { script: string; pid?: number };
  errno?: number;
  errmsg?: string;
}

export function decodeResponse(data: Buffer): CriuResponse {
  const fields = readMessage(data);
  const restore = messageField(fields, 4);
  const notify = messageField(fields, 5);
  const type = int32Field(fields, 1);
  if (type === undefined) throw new Error('criu\'s response has no type');
  const response: CriuResponse = { type, success: int32Field(fields, 2) === 1 };
  const restoredPid = restore && int32Field(restore, 1);
  if (restoredPid !== undefined) response.restoredPid = restoredPid;
  if (notify) {
    const pid = int32Field(notify, 2);
    response.notify = { script: stringField(notify, 1) ?? '', ...(pid !== undefined ? { pid } : {}) };
  }
  const errno = int32Field(fields, 7);
  if (errno !== undefined) response.errno = errno;
  const errmsg = stringField(fields, 9);
  if (errmsg !== undefined) response.errmsg = errmsg;
  return response;
}
