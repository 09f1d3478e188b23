// @tsrunc/runtime/platform: the Linux calls the runtime and the builder share, once each: libc
// and errno errors, openat2 resolution inside a root, mounts and overlays, directories made with
// the real cause of a failure, the mount table, files replaced whole, filesystems flushed;
// whether this code runs in a single binary compiled by Bun, where modules have no place on disk.
export { libc, check, SysError, lastErrno } from './libc.js';
export * from './openat2.js';
export * from './mount.js';
export * from './make-dirs.js';
export { makedev } from './devices.js';
export * from './mountinfo.js';
export * from './atomic-file.js';
export { syncFilesystem } from './sync.js';
export { SINGLE_BINARY } from './single-binary.js';
