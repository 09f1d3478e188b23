// tsbuild as a library: what the CLI (src/tsbuild.ts) is made of, for programs that build images.
export { parseDockerfile, toAst, DockerfileError } from './dockerfile/index.js';
export { Build, type BuildRequest } from './engine/build.js';
export { exportImage, finalizeImage, parseOutput, type Output } from './engine/export.js';
export { loadIgnore } from './engine/ignore.js';
export { Progress } from './engine/progress.js';
export { openStore, storeRoot, type BuilderStore } from './engine/store-root.js';
export { unpackImage } from './engine/unpack.js';
