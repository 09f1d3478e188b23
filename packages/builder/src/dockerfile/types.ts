// Data model produced by parseDockerfile. Everything here is plain JSON-able data so that
// `tsbuild --print ast` and tests can compare it structurally.

export type EscapeChar = '\\' | '`';

/** Flag values after validation: string flags and booleans ("true"/"false") are strings, repeatable flags are lists. */
export type Flags = Record<string, string | string[]>;

export interface Heredoc {
  name: string;
  /** Body text, one "\n" after every line; leading tabs already stripped when `chomp` is set. */
  content: string;
  /** false when the delimiter was quoted (`<<"EOF"` / `<<'EOF'`): the body must not be expanded. */
  expand: boolean;
  /** `<<-EOF`: leading tabs are stripped from the body lines and the delimiter line. */
  chomp: boolean;
}

interface Base<K extends string> {
  kind: K;
  /** 1-based line of the instruction's first source line. */
  line: number;
  /** Source text after continuation joining (comments and blank continuation lines dropped). */
  original: string;
  flags: Flags;
}

export type CommandForm = { form: 'exec'; args: string[] } | { form: 'shell'; command: string };

/** ENV/LABEL pair. `value` has quotes and escapes removed but variables untouched; `raw` is the source word to hand to expandWords. */
export interface KeyValue {
  key: string;
  value: string;
  raw: string;
}

export interface ArgDefinition {
  name: string;
  /** Default with quotes removed, variables untouched. */
  default?: string;
  /** Source text of the default, for expandWords at build time. */
  defaultRaw?: string;
}

export interface HealthcheckOptions {
  /** Durations in nanoseconds, as in the image config. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export type RunInstruction = Base<'RUN'> & CommandForm & { heredocs: Heredoc[] };
export type CmdInstruction = Base<'CMD'> & CommandForm;
export type EntrypointInstruction = Base<'ENTRYPOINT'> & CommandForm;
export interface LabelInstruction extends Base<'LABEL'> { pairs: KeyValue[] }
export interface EnvInstruction extends Base<'ENV'> { pairs: KeyValue[] }
export interface MaintainerInstruction extends Base<'MAINTAINER'> { name: string }
export interface ExposeInstruction extends Base<'EXPOSE'> { ports: string[] }
/** `sources` are the unexpanded source words (heredoc markers excluded, their bodies are in `heredocs`). */
export interface CopyInstruction extends Base<'COPY'> { sources: string[]; dest: string; heredocs: Heredoc[] }
export interface AddInstruction extends Base<'ADD'> { sources: string[]; dest: string; heredocs: Heredoc[] }
export interface VolumeInstruction extends Base<'VOLUME'> { paths: string[] }
export interface UserInstruction extends Base<'USER'> { user: string }
export interface WorkdirInstruction extends Base<'WORKDIR'> { path: string }
export interface ArgInstruction extends Base<'ARG'> { args: ArgDefinition[] }
export interface OnbuildInstruction extends Base<'ONBUILD'> { instruction: Instruction }
export interface StopsignalInstruction extends Base<'STOPSIGNAL'> { signal: string }
export interface HealthcheckInstruction extends Base<'HEALTHCHECK'> { test: string[]; options: HealthcheckOptions }
export interface ShellInstruction extends Base<'SHELL'> { args: string[] }

export type Instruction =
  | RunInstruction
  | CmdInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | AddInstruction
  | CopyInstruction
  | EntrypointInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

/** FROM only exists while parsing; stages carry its data. */
export interface FromInstruction extends Base<'FROM'> { base: string; name?: string; platform?: string }

export interface Stage {
  index: number;
  /** Lower-cased `AS` name. */
  name?: string;
  /** Unexpanded image text of FROM. */
  base: string;
  platform?: string;
  line: number;
  instructions: Instruction[];
}

export interface Dockerfile {
  directives: Record<string, string>;
  escape: EscapeChar;
  globalArgs: ArgInstruction[];
  stages: Stage[];
}
