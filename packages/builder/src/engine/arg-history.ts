// The history text BuildKit writes for ARG and RUN: an ARG is an empty-layer entry naming each
// argument with the value it took, and a RUN names, before its command, the stage's declared
// arguments with the values its environment gave them (`|2 A=1 B= /bin/sh -c ...`), as docker
// has since its first builder.
import { envValue } from './image-state.js';

/** `ARG A=1 B`: each argument with its value, or its name alone when it has none. */
export function argHistory(names: readonly string[], stageArgs: Readonly<Record<string, string | undefined>>): string {
  return `ARG ${names.map((name) => (stageArgs[name] === undefined ? name : `${name}=${stageArgs[name]}`)).join(' ')}`;
}

/** `RUN |N A=1 B= ARGV... # buildkit`; an argument's value is the step environment's, where it has one. */
export function runHistory(argv: readonly string[], stageArgs: Readonly<Record<string, string | undefined>>, env: string[]): string {
  const args = Object.entries(stageArgs).map(([name, value]) => `${name}=${envValue(env, name) ?? value ?? ''}`);
  const prefix = args.length > 0 ? [`|${args.length}`, ...args] : [];
  return `RUN ${[...prefix, ...argv].join(' ')} # buildkit`;
}
