// Groups instructions into build stages and answers questions about them: which stage a
// --target names, and which stages each stage depends on.

import { DockerfileError } from './errors.js';
import type { ArgInstruction, Dockerfile, FromInstruction, Instruction, Stage } from './types.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Splits the instruction sequence at FROMs; ARGs before the first FROM become global args. */
export function assembleStages(
  items: readonly (Instruction | FromInstruction)[],
  file: string,
): { globalArgs: ArgInstruction[]; stages: Stage[] } {
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Set<string>();
  for (const item of items) {
    if (item.kind === 'FROM') {
      stages.push(newStage(item, stages.length, names, file));
      continue;
    }
    const current = stages[stages.length - 1];
    if (current) current.instructions.push(item);
    else if (item.kind === 'ARG') globalArgs.push(item);
    else throw new DockerfileError(file, item.line, `no build stage in current context: ${item.kind} before the first FROM`);
  }
  if (stages.length === 0) {
    throw new DockerfileError(file, items[items.length - 1]?.line ?? 1, 'no build stage: the file has no FROM instruction');
  }
  return { globalArgs, stages };
}

function newStage(from: FromInstruction, index: number, names: Set<string>, file: string): Stage {
  const name = from.name?.toLowerCase();
  if (name !== undefined) {
    if (!STAGE_NAME.test(name)) {
      throw new DockerfileError(file, from.line, `invalid name for build stage: "${from.name}", name can't start with a number or contain symbols`);
    }
    if (names.has(name)) throw new DockerfileError(file, from.line, `duplicate stage name "${name}"`);
    names.add(name);
  }
  return {
    index,
    ...(name !== undefined ? { name } : {}),
    base: from.base,
    ...(from.platform !== undefined ? { platform: from.platform } : {}),
    line: from.line,
    instructions: [],
  };
}

/** The stage for `--target`: by (case-insensitive) name, or by index when given digits. */
export function resolveStage(df: Dockerfile, nameOrIndex: string): Stage {
  const wanted = nameOrIndex.toLowerCase();
  const stage =
    df.stages.find((s) => s.name === wanted) ?? (/^\d+$/.test(wanted) ? df.stages[Number(wanted)] : undefined);
  if (!stage) throw new Error(`target stage "${nameOrIndex}" could not be found`);
  return stage;
}

/**
 * Resolves a reference (name or index) to a stage index, or undefined when it names an image.
 * Names are indexed once: looking each reference up by scanning the stages made a Dockerfile of
 * many stages quadratic.
 */
function stageLookup(df: Dockerfile): (ref: string) => number | undefined {
  const byName = new Map<string, number>();
  for (const s of df.stages) if (s.name !== undefined) byName.set(s.name, s.index);
  return (ref) => {
    const named = byName.get(ref.toLowerCase());
    if (named !== undefined) return named;
    if (/^\d+$/.test(ref) && Number(ref) < df.stages.length) return Number(ref);
    return undefined;
  };
}

/** `from=` value of a `--mount` CSV spec such as `type=cache,from=builder,target=/x`. */
function mountFrom(spec: string): string | undefined {
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'from') return field.slice(eq + 1).trim();
  }
  return undefined;
}

function referencedStages(stageRef: (ref: string) => number | undefined, stage: Stage): number[] {
  const refs: number[] = [];
  // A FROM can only build on a stage defined before it; a later or unknown name is an image.
  const base = stageRef(stage.base);
  if (base !== undefined && base < stage.index) refs.push(base);
  for (const ins of stage.instructions) {
    const from = ins.kind === 'COPY' ? ins.flags['from'] : undefined;
    if (typeof from === 'string') {
      const ref = stageRef(from);
      if (ref !== undefined) refs.push(ref);
    }
    const mounts = ins.kind === 'RUN' ? ins.flags['mount'] : undefined;
    for (const spec of Array.isArray(mounts) ? mounts : []) {
      const value = mountFrom(spec);
      const ref = value === undefined ? undefined : stageRef(value);
      if (ref !== undefined) refs.push(ref);
    }
  }
  return refs;
}

/**
 * For every stage index, the stages it needs (FROM <stage>, COPY --from, RUN --mount=from=).
 * References whose value contains build args cannot be resolved here and are left to the builder.
 * COPY --from may point at a later stage, so cycles are possible; they are reported as errors.
 */
export function stageDependencies(df: Dockerfile): Map<number, Set<number>> {
  const stageRef = stageLookup(df);
  const deps = new Map<number, Set<number>>();
  for (const stage of df.stages) deps.set(stage.index, new Set(referencedStages(stageRef, stage)));
  // Depth-first with an explicit stack: a chain of thousands of stages must not overflow the call stack.
  const state = new Map<number, 'visiting' | 'done'>();
  for (const root of df.stages) {
    if (state.has(root.index)) continue;
    state.set(root.index, 'visiting');
    // `pending` is reversed so that pop() visits dependencies in the order they were written.
    const stack = [{ index: root.index, pending: [...(deps.get(root.index) ?? [])].reverse() }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const dep = top.pending.pop();
      if (dep === undefined) {
        state.set(top.index, 'done');
        stack.pop();
      } else if (state.get(dep) === 'visiting') {
        throw new Error(`circular dependency detected on stage: ${df.stages[dep]?.name ?? dep}`);
      } else if (!state.has(dep)) {
        state.set(dep, 'visiting');
        stack.push({ index: dep, pending: [...(deps.get(dep) ?? [])].reverse() });
      }
    }
  }
  return deps;
}
