// Whether this code runs inside tsrunc's single binary (scripts/bundle.mjs compiles it with Bun):
// there, modules live in Bun's embedded file system, so files beside the package (the native
// stage, node_modules) are found from the binary's own path, never from import.meta.url.
export const SINGLE_BINARY = import.meta.url.startsWith('file:///$bunfs/');
