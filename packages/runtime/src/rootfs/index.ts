// The container's root filesystem: planned here from config.json (plan.ts), encoded as a list of
// operations (native-plan.ts) that the native rootfs executor (native/rootfs.c) performs inside
// the container's new mount namespace, or in the host's for a container without one.
export { cgroupView } from './cgroup-mount.js';
export { encodeRootfsPlan, type RootfsExtras } from './native-plan.js';
export { planRootfs, type RootfsPlan } from './plan.js';
