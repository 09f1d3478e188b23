// A minimal rtnetlink client (netlink(7), rtnetlink(7)) over the C library: the few link and
// address requests that moving a network device into a container needs. A socket belongs to the
// network namespace it was made in; `openRouteSocket(nsPath)` makes one in another namespace by
// entering it with the calling thread for the one socket(2) call.
import fs from 'node:fs';
import { check, libc, SysError } from './libc.js';
import { O } from './openat2.js';
import { openSocket, SOCK_CLOEXEC } from './socket.js';

const sendC = libc.func('long send(int fd, const void *buf, size_t len, int flags)');
const recvC = libc.func('long recv(int fd, void *buf, size_t len, int flags)');
const setnsC = libc.func('int setns(int fd, int nstype)');
const ifNameToIndex = libc.func('unsigned int if_nametoindex(const char *name)');

const AF_NETLINK = 16, SOCK_RAW = 3, NETLINK_ROUTE = 0, CLONE_NEWNET = 0x40000000;
const NLMSG_ERROR = 2, NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_DUMP = 0x300;
const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_GETADDR = 22;
const IFLA_IFNAME = 3, IFLA_NET_NS_FD = 28;
const IFF_UP = 0x1;
const NLMSG_HDRLEN = 16, IFINFOMSG_LEN = 16, IFADDRMSG_LEN = 8;

/** rtnetlink's address attributes kept when an address is copied: where and to what it applies, and its
 * flags (the kernel keeps of them only what can be set, as nodad). */
const IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_BROADCAST = 4, IFA_FLAGS = 8;
const COPIED_ADDRESS_ATTRIBUTES = new Set([IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_FLAGS]);

const align4 = (n: number): number => (n + 3) & ~3;

/** One rtattr: u16 length, u16 type, the value, padded to 4 bytes. */
function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + value.length));
  out.writeUInt16LE(4 + value.length, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

function parseAttributes(data: Buffer): Map<number, Buffer> {
  const attributes = new Map<number, Buffer>();
  for (let off = 0; off + 4 <= data.length;) {
    const len = data.readUInt16LE(off);
    if (len < 4) break;
    attributes.set(data.readUInt16LE(off + 2) & 0x3fff, data.subarray(off + 4, off + len));
    off += align4(len);
  }
  return attributes;
}

const cString = (text: string): Buffer => Buffer.from(`${text}\0`, 'utf8');

/** struct ifinfomsg: family, type, index, flags and which flags to change. */
function ifinfo(index: number, flags = 0, change = 0): Buffer {
  const msg = Buffer.alloc(IFINFOMSG_LEN);
  msg.writeInt32LE(index, 4);
  msg.writeUInt32LE(flags, 8);
  msg.writeUInt32LE(change, 12);
  return msg;
}

/** An address of a link as rtnetlink reports it, with the attributes needed to add it again. */
export interface LinkAddress {
  family: number;
  prefixLength: number;
  /** ifa_flags (IFA_F_*), and the scope (RT_SCOPE_*). */
  flags: number;
  scope: number;
  attributes: Map<number, Buffer>;
}

export const IFA_F_PERMANENT = 0x80;
export const RT_SCOPE_UNIVERSE = 0;

export class RouteSocket {
  private seq = 0;
  private readonly buffer = Buffer.alloc(64 * 1024);

  constructor(private readonly fd: number) {}

  close(): void {
    fs.closeSync(this.fd);
  }

  /**
   * Sends one request; returns the reply messages (type, body), or throws the kernel's error. A
   * request that is not a dump asks for an acknowledgement, which ends its replies as DONE ends a dump's.
   */
  private request(what: string, type: number, flags: number, body: Buffer): { type: number; body: Buffer }[] {
    const seq = ++this.seq;
    const header = Buffer.alloc(NLMSG_HDRLEN);
    header.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
    header.writeUInt16LE(type, 4);
    header.writeUInt16LE(NLM_F_REQUEST | ((flags & NLM_F_DUMP) === NLM_F_DUMP ? flags : flags | NLM_F_ACK), 6);
    header.writeUInt32LE(seq, 8);
    const message = Buffer.concat([header, body]);
    check(Number(sendC(this.fd, message, message.length, 0)), `${what}: netlink send`);
    const replies: { type: number; body: Buffer }[] = [];
    for (;;) {
      const n = check(Number(recvC(this.fd, this.buffer, this.buffer.length, 0)), `${what}: netlink receive`);
      for (let off = 0; off + NLMSG_HDRLEN <= n;) {
        const len = this.buffer.readUInt32LE(off);
        const replyType = this.buffer.readUInt16LE(off + 4);
        const replySeq = this.buffer.readUInt32LE(off + 8);
        if (len < NLMSG_HDRLEN || off + len > n) throw new Error(`${what}: malformed netlink reply`);
        const replyBody = Buffer.from(this.buffer.subarray(off + NLMSG_HDRLEN, off + len));
        off += align4(len);
        if (replySeq !== seq) continue;
        if (replyType === NLMSG_DONE) return replies;
        if (replyType === NLMSG_ERROR) {
          const errno = -replyBody.readInt32LE(0);
          if (errno !== 0) throw new SysError(what, errno);
          return replies; // the acknowledgement
        }
        replies.push({ type: replyType, body: replyBody });
      }
    }
  }

  /** The link's name, or undefined if no link has that index. */
  linkName(index: number): string | undefined {
    try {
      const [reply] = this.request(`get link ${index}`, RTM_GETLINK, 0, ifinfo(index));
      const name = reply && parseAttributes(reply.body.subarray(IFINFOMSG_LEN)).get(IFLA_IFNAME);
      return name?.toString('utf8').replace(/\0.*$/s, '');
    } catch (err) {
      if (err instanceof SysError && err.code === 'ENODEV') return undefined;
      throw err;
    }
  }

  /** The index of the link named `name`, or 0 if there is none. */
  linkIndexByName(name: string): number {
    try {
      const [reply] = this.request(`get link ${name}`, RTM_GETLINK, 0, Buffer.concat([ifinfo(0), attribute(IFLA_IFNAME, cString(name))]));
      return reply ? reply.body.readInt32LE(4) : 0;
    } catch (err) {
      if (err instanceof SysError && err.code === 'ENODEV') return 0;
      throw err;
    }
  }

  /** Whether the link is administratively up. */
  linkIsUp(index: number): boolean {
    const [reply] = this.request(`get link ${index}`, RTM_GETLINK, 0, ifinfo(index));
    return reply !== undefined && (reply.body.readUInt32LE(8) & IFF_UP) !== 0;
  }

  /**
   * Moves the link into the network namespace open at nsFd, named `name` there (a name with %d is
   * a template the kernel completes). One request: the rename cannot collide on either side.
   */
  moveLink(index: number, name: string, nsFd: number, what: string): void {
    const nsAttribute = Buffer.alloc(4);
    nsAttribute.writeUInt32LE(nsFd, 0);
    this.request(what, RTM_NEWLINK, 0, Buffer.concat([ifinfo(index), attribute(IFLA_IFNAME, cString(name)), attribute(IFLA_NET_NS_FD, nsAttribute)]));
  }

  setLinkUp(index: number, what: string): void {
    this.request(what, RTM_NEWLINK, 0, ifinfo(index, IFF_UP, IFF_UP));
  }

  addresses(index: number): LinkAddress[] {
    const request = Buffer.alloc(IFADDRMSG_LEN); // AF_UNSPEC: every family
    return this.request(`list the addresses of link ${index}`, RTM_GETADDR, NLM_F_DUMP, request)
      .filter((reply) => reply.body.readUInt32LE(4) === index)
      .map((reply) => ({
        family: reply.body.readUInt8(0),
        prefixLength: reply.body.readUInt8(1),
        flags: reply.body.readUInt8(2),
        scope: reply.body.readUInt8(3),
        attributes: parseAttributes(reply.body.subarray(IFADDRMSG_LEN)),
      }));
  }

  addAddress(index: number, address: LinkAddress, what: string): void {
    const msg = Buffer.alloc(IFADDRMSG_LEN);
    msg.writeUInt8(address.family, 0);
    msg.writeUInt8(address.prefixLength, 1);
    msg.writeUInt8(address.flags & IFA_F_PERMANENT, 2);
    msg.writeUInt8(address.scope, 3);
    msg.writeUInt32LE(index, 4);
    const attributes = [...address.attributes].filter(([type]) => COPIED_ADDRESS_ATTRIBUTES.has(type)).map(([type, value]) => attribute(type, value));
    this.request(what, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, Buffer.concat([msg, ...attributes]));
  }
}

/** The index of a link of the calling thread's network namespace, or 0 if there is none by that name. */
export function linkIndex(name: string): number {
  return ifNameToIndex(name) as number;
}

function routeSocketHere(): RouteSocket {
  return new RouteSocket(openSocket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, 'netlink socket'));
}

/**
 * A route socket in the network namespace at nsPath, or in the caller's without one. The calling
 * thread enters the namespace and returns before any other JavaScript runs; only it moves (setns
 * of a network namespace is per thread), and the socket stays in the namespace it was made in.
 */
export function openRouteSocket(nsPath?: string): RouteSocket {
  if (nsPath === undefined) return routeSocketHere();
  const home = fs.openSync('/proc/thread-self/ns/net', O.RDONLY | O.CLOEXEC);
  const target = fs.openSync(nsPath, O.RDONLY | O.CLOEXEC);
  try {
    check(setnsC(target, CLONE_NEWNET) as number, `enter the network namespace ${nsPath}`);
    try {
      return routeSocketHere();
    } finally {
      // Failing to return would leave the runtime's thread in the container's namespace.
      check(setnsC(home, CLONE_NEWNET) as number, 'return to the runtime\'s network namespace');
    }
  } finally {
    fs.closeSync(target);
    fs.closeSync(home);
  }
}
