// linux.netDevices (runtime-spec 1.3): host network interfaces moved into the container's network
// namespace at create, renamed if asked, with their permanent global addresses, and set up. As
// the spec requires (and runc does), nothing moves them back at delete: when the namespace dies the
// kernel returns physical devices to the host and destroys virtual ones. A create that fails after
// a move does move them back, with their names, addresses and state, so that it leaves nothing.
import fs from 'node:fs';
import type { Linux } from '@tsrunc/spec-schemas';
import type { NamespacePlan } from '../launch/namespaces.js';
import { IFA_F_PERMANENT, linkIndex, openRouteSocket, RT_SCOPE_UNIVERSE, type LinkAddress, type RouteSocket } from '../sys/netlink.js';
import { O } from '../sys/openat2.js';
import type { UndoStack } from './undo.js';

export interface NetDevicePlan {
  hostName: string;
  /** The name in the container; with %d, a template the kernel completes. */
  containerName: string;
}

/** IFNAMSIZ, with the terminating NUL. */
const IFNAMSIZ = 16;

/** The kernel's dev_valid_name, and at most one %d (dev_alloc_name's template). */
function checkName(name: string, what: string): void {
  const problem =
    name === '' ? 'is empty'
    : Buffer.byteLength(name) >= IFNAMSIZ ? `is longer than ${IFNAMSIZ - 1} bytes`
    : name === '.' || name === '..' ? 'is not a name'
    : /[/:\s]/.test(name) ? 'has a "/", ":" or white space'
    : /%(?!d)/.test(name) || (name.match(/%/g)?.length ?? 0) > 1 ? 'has a "%" other than one %d template'
    : undefined;
  if (problem) throw new Error(`linux.netDevices: ${what} "${name}" ${problem}`);
}

/** Checks linux.netDevices before anything is made: the names, the namespace, the devices on the host. */
export function planNetDevices(linux: Linux | undefined, namespaces: NamespacePlan): NetDevicePlan[] {
  const entries = Object.entries(linux?.netDevices ?? {});
  if (entries.length === 0) return [];
  if (!namespaces.all.has('network')) throw new Error('linux.netDevices needs a network namespace: add {"type": "network"} to linux.namespaces');
  if (process.geteuid?.() !== 0) throw new Error('linux.netDevices: moving network devices needs root (not supported for rootless containers)');
  const plans: NetDevicePlan[] = [];
  const taken = new Set<string>();
  for (const [hostName, device] of entries) {
    checkName(hostName, 'host device name');
    const containerName = device.name || hostName;
    checkName(containerName, `name for "${hostName}" in the container`);
    if (!containerName.includes('%')) {
      if (taken.has(containerName)) throw new Error(`linux.netDevices: two devices would be named "${containerName}" in the container`);
      taken.add(containerName);
    }
    if (linkIndex(hostName) === 0) throw new Error(`linux.netDevices: there is no network device "${hostName}" on the host`);
    plans.push({ hostName, containerName });
  }
  return plans;
}

/** The container's own name for a moved link: its name, or the kernel's completion of the template. */
function findMoved(container: RouteSocket, index: number, device: NetDevicePlan): number {
  const name = container.linkName(index);
  const template = new RegExp(`^${device.containerName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('%d', '\\d+')}$`);
  if (name === undefined || !template.test(name)) {
    // The kernel gives the link a new index only if its own is taken in the target namespace.
    const byName = device.containerName.includes('%') ? 0 : container.linkIndexByName(device.containerName);
    if (byName === 0) throw new Error(`linux.netDevices: "${device.hostName}" moved, but is not found in the container's network namespace`);
    return byName;
  }
  return index;
}

/** A link's movable state on one side: its addresses that the spec keeps, and whether it is up. */
interface LinkState {
  addresses: LinkAddress[];
  up: boolean;
}

function linkState(socket: RouteSocket, index: number): LinkState {
  const kept = (a: LinkAddress) => (a.flags & IFA_F_PERMANENT) !== 0 && a.scope === RT_SCOPE_UNIVERSE;
  return { addresses: socket.addresses(index).filter(kept), up: socket.linkIsUp(index) };
}

function restore(socket: RouteSocket, index: number, name: string, state: LinkState, where: string): void {
  for (const address of state.addresses) socket.addAddress(index, address, `add an address of ${name} in ${where}`);
  if (state.up) socket.setLinkUp(index, `set ${name} up in ${where}`);
}

/**
 * Moves the devices into the network namespace of the process `pid` (the container's init, before
 * its program runs). The namespace is held open until the returned function (or the undo step
 * registered first, which runs after the others) releases it, so that the undo steps can move
 * devices back even if the init has died.
 */
export function moveNetDevices(devices: NetDevicePlan[], pid: number, undo: UndoStack): () => void {
  const nsPath = `/proc/${pid}/ns/net`;
  const hostNs = fs.openSync('/proc/thread-self/ns/net', O.RDONLY | O.CLOEXEC);
  const containerNs = fs.openSync(nsPath, O.RDONLY | O.CLOEXEC);
  const host = openRouteSocket();
  const container = openRouteSocket(nsPath);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    container.close();
    host.close();
    fs.closeSync(containerNs);
    fs.closeSync(hostNs);
  };
  undo.push('release the container\'s network namespace', release);
  for (const device of devices) {
    const index = linkIndex(device.hostName);
    if (index === 0) throw new Error(`linux.netDevices: the network device "${device.hostName}" is gone from the host`);
    const state = linkState(host, index);
    let moved: number | undefined;
    undo.push(`move network device ${device.hostName} back to the host`, () => {
      if (moved === undefined) return;
      container.moveLink(moved, device.hostName, hostNs, `move ${device.hostName} back to the host`);
      restore(host, linkIndex(device.hostName), device.hostName, state, 'the host');
    });
    if (!device.containerName.includes('%') && container.linkIndexByName(device.containerName) !== 0) {
      throw new Error(`linux.netDevices: the container's network namespace already has a device named "${device.containerName}"`);
    }
    try {
      host.moveLink(index, device.containerName, containerNs, `move network device ${device.hostName} into the container as ${device.containerName}`);
    } catch (err) {
      // The kernel renames after the move: a rename that fails leaves the device moved, as it was named.
      if (linkIndex(device.hostName) === 0) moved = container.linkIndexByName(device.hostName) || undefined;
      throw err;
    }
    moved = index; // where it is unless the kernel had to give it another index
    moved = findMoved(container, index, device);
    // The kernel drops a link's addresses when it changes namespace; the spec keeps the
    // permanent global ones, and wants the device up.
    restore(container, moved, device.containerName, { ...state, up: true }, 'the container');
  }
  return release;
}
