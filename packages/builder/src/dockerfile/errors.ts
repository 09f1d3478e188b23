/** A syntax or semantic error located in a Dockerfile. The message is a single line `file:line: problem`. */
export class DockerfileError extends Error {
  readonly file: string;
  readonly line: number;
  readonly problem: string;

  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'DockerfileError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/**
 * Thrown by the per-instruction parsers, which do not know the file name or line;
 * the main loop turns it into a DockerfileError at the instruction's line.
 */
export class Problem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Problem';
  }
}
