// @tsrunc/runtime: an OCI runtime as a library (runtime.ts), its errors, and what its clients
// share with it: runc's default spec, the capability names, the client for the tsrunc binary,
// docker's byte sizes.
// Platform code (libc, mounts, openat2) is '@tsrunc/runtime/platform'; test rootfs helpers are
// '@tsrunc/runtime/testing'. Nothing else of the package is public.
export {
  Runtime,
  Container,
  features,
  type ContainerState,
  type CheckpointOptions,
  type ContainerEvent,
  type CreateOptions,
  type EventOptions,
  type ExecOptions,
  type RestoreOptions,
  type RunOptions,
  type RuntimeLog,
  type RuntimeOptions,
} from './runtime.js';
export { RuntimeError, ContainerNotFoundError, ContainerExistsError, InvalidStatusError } from './state/errors.js';
export { TRANSITIONS, type Operation, type Status } from './state/status.js';
export { defaultSpec } from './container/spec-template.js';
export { CAPABILITIES, boundingCapabilities } from './process/capability-names.js';
export { TsruncClient, TSRUNC_BINARY, type TsruncRunOptions } from './client.js';
export { parseByteSize } from './units.js';
export { parseSubCgroupArgs, type SubCgroups } from './cgroups/sub-cgroup.js';
