// Dockerfile front end: parsing, stage queries and BuildKit-style word expansion.

export { DockerfileError } from './errors.js';
export { dockerfileOf, parseDockerfile, readInstructions, type InstructionList } from './parse.js';
export { parseTrigger } from './instructions.js';
export { resolveStage, stageDependencies } from './stages.js';
export { expandWords, expandWordList, ExpansionError, type ExpandOptions, type Lookup } from './expand.js';
export { toAst } from './ast.js';
export type * from './types.js';
