// The parse driver: directives, then logical lines (with heredoc bodies) into instructions,
// then stages.

import { parseDirectives } from './directives.js';
import { DockerfileError, Problem } from './errors.js';
import { parseInstruction } from './instructions.js';
import { LineSource, splitLines } from './lines.js';
import { assembleStages } from './stages.js';
import type { Dockerfile, EscapeChar, FromInstruction, Instruction } from './types.js';

export interface InstructionList {
  directives: Record<string, string>;
  escape: EscapeChar;
  /** Every instruction in file order, FROMs included, before they are grouped into stages. */
  items: (Instruction | FromInstruction)[];
}

/** Directives and instructions, without the stage rules (the build checks read what those refuse). */
export function readInstructions(text: string, file = 'Dockerfile'): InstructionList {
  const lines = splitLines(text);
  const { directives, escape } = parseDirectives(lines, file);
  const source = new LineSource(lines, escape);
  const items: (Instruction | FromInstruction)[] = [];
  for (let logical = source.nextLogical(); logical; logical = source.nextLogical()) {
    try {
      items.push(parseInstruction(logical.text, logical.line, { escape, heredocSource: source }));
    } catch (err) {
      if (err instanceof Problem) throw new DockerfileError(file, logical.line, err.message);
      throw err;
    }
  }
  if (items.length === 0) throw new DockerfileError(file, Math.max(1, lines.length), 'file with no instructions');
  return { directives, escape, items };
}

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  return dockerfileOf(readInstructions(text, file), file);
}

/** The stages of what readInstructions read, for a caller that has it already (the build checks read it first). */
export function dockerfileOf({ directives, escape, items }: InstructionList, file: string): Dockerfile {
  return { directives, escape, ...assembleStages(items, file) };
}
