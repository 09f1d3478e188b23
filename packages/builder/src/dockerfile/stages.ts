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

/** Stage index referenced by `ref` (name or index), or undefined when it names an image. */
function stageRef(df: Dockerfile, ref: string): number | undefined {
  const lower = ref.toLowerCase();
  const named = df.stages.find((s) => s.name === lower);
  if (named) return named.index;
  if (/^\d+$/.test(ref) && Number(ref) < df.stages.length) return Number(ref);
  return undefined;
}

/** `from=` value of a `--mount` CSV spec such as `type=cache,from=builder,target=/x`. */
function mountFrom(spec: string): string | undefined {
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'from') return field.slice(eq + 1).trim();
  }
  return undefined;
}

function referencedStages(df: Dockerfile, stage: Stage): number[] {
  const refs: number[] = [];
  // A FROM can only build on a stage defined before it; a later or unknown name is an image.
  const base = stageRef(df, stage.base);
  if (base !== undefined && base < stage.index) refs.push(base);
  for (const ins of stage.instructions) {
    const from = ins.kind === 'COPY' ? ins.flags['from'] : undefined;
    if (typeof from === 'string') {
      const ref = stageRef(df, from);
      if (ref !== undefined) refs.push(ref);
    }
    const mounts = ins.kind === 'RUN' ? ins.flags['mount'] : undefined;
    for (const spec of Array.isArray(mounts) ? mounts : []) {
      const value = mountFrom(spec);
      const ref = value === undefined ? undefined : stageRef(df, value);
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
  const deps = new Map<number, Set<number>>();
  for (const stage of df.stages) deps.set(stage.index, new Set(referencedStages(df, stage)));
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (index: number): void => {
    if (state.get(index) === 'done') return;
    if (state.get(index) === 'visiting') {
      const stage = df.stages[index];
      throw new Error(`circular dependency detected on stage: ${stage?.name ?? index}`);
    }
    state.set(index, 'visiting');
    for (const dep of deps.get(index) ?? []) visit(dep);
    state.set(index, 'done');
  };
  for (const stage of df.stages) visit(stage.index);
  return deps;
}
