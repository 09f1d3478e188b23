// BuildKit's build checks over a Dockerfile: style (casing, legacy forms), stage names, and the
// mistakes a build would not report (undefined variables, relative workdirs, a CMD that only the
// last of several counts). They read the instructions as written, before the stage rules: a
// duplicate stage name is a finding here, though parseDockerfile refuses it.

import path from 'node:path';
import { expandWords } from '../dockerfile/index.js';
import { envMap } from '../engine/image-state.js';
import type { AddInstruction, CopyInstruction, EscapeChar, FromInstruction, Instruction, InstructionList, Lookup } from '../dockerfile/index.js';
import { hostArchitecture, parsePlatform } from '../registry/platform.js';
import { parseReference } from '../registry/reference.js';
import { isSkipped, parseCheckConfig, type CheckConfig } from './config.js';
import type { Finding, RuleName } from './rules.js';

export interface CheckOptions {
  /** The BUILDKIT_DOCKERFILE_CHECK build arg: when given, it is used instead of the `# check=` directive. */
  checkArg?: string;
  /** Whether the build context leaves out this slash-separated path (its .dockerignore). */
  ignored?: (rel: string) => boolean;
  /**
   * The Env of an image a FROM names (its reference as the FROM expands it), when it is known:
   * UndefinedVar then knows that stage's variables, as BuildKit, which reads the image's config.
   */
  imageEnv?: (image: string) => string[] | undefined;
}

export interface CheckResult {
  config: CheckConfig;
  /** What the checks found, the skipped rules left out, in line order. */
  findings: Finding[];
}

/** The args BuildKit defines for every build, with this host's values; a FROM may use them undeclared. */
const PLATFORM_ARGS: ReadonlyMap<string, string> = new Map(Object.entries({
  TARGETPLATFORM: `linux/${hostArchitecture()}`, TARGETOS: 'linux', TARGETARCH: hostArchitecture(), TARGETVARIANT: '',
  BUILDPLATFORM: `linux/${hostArchitecture()}`, BUILDOS: 'linux', BUILDARCH: hostArchitecture(), BUILDVARIANT: '',
}));
const SCRATCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);
/** Instructions of which a stage keeps only the last. */
const ONCE_PER_STAGE = new Set(['CMD', 'ENTRYPOINT', 'HEALTHCHECK']);
/** A name with one of these `_`-separated words holds a secret, unless it also has an allowed word. */
const SECRET_WORD = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET_WORD = /(?:_|^)(?:public|file|version)(?:_|$)/i;

/** What the checks know of a stage while they walk it. */
interface StageScope {
  /** Its variables (ARGs and ENVs, its base stage's too) and their values; an ARG without one has none. */
  vars: Map<string, string | undefined>;
  /** false when the base is an image whose environment is not known: UndefinedVar cannot tell then. */
  envKnown: boolean;
  shellSet: boolean;
  /** A WORKDIR was seen: a relative one after it is relative to a directory this build chose. */
  workdirSet: boolean;
  /** CMD, ENTRYPOINT and HEALTHCHECK: the line of the last one seen. */
  lastOnce: Map<string, number>;
}

const keywordAsWritten = (item: Instruction | FromInstruction): string => /^\S+/.exec(item.original)?.[0] ?? item.kind;
const isOneCase = (word: string): boolean => word === word.toLowerCase() || word === word.toUpperCase();

/** `text` expanded, or undefined where the build would fail on it (`${X:?}`, a malformed substitution) with its own error. */
function tryExpand(text: string, lookup: Lookup, escape: EscapeChar): string | undefined {
  try {
    return expandWords(text, lookup, escape);
  } catch {
    return undefined;
  }
}

/** `text` expanded, with the variable names it used: those `lookup` knew and those it did not. */
function expandTracked(text: string, lookup: Lookup, escape: EscapeChar): { result: string | undefined; known: Set<string>; unknown: Set<string> } {
  const known = new Set<string>();
  const unknown = new Set<string>();
  const result = tryExpand(text, (name) => {
    const value = lookup(name);
    (value === undefined ? unknown : known).add(name);
    return value;
  }, escape);
  return { result, known, unknown };
}

const unknownNames = (text: string, lookup: Lookup, escape: EscapeChar): string[] => [...expandTracked(text, lookup, escape).unknown];

/** Levenshtein distance, for "did you mean" (BuildKit suggests a name fewer than 3 edits away). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function suggestion(name: string, options: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const option of options) {
    const d = distance(name, option);
    if (d < bestDistance) [best, bestDistance] = [option, d];
  }
  return best;
}

const didYouMean = (match: string | undefined, prefix = ''): string => (match === undefined ? '' : ` (did you mean ${prefix}${match}?)`);

/** One walk over the instructions, recording findings as it goes. */
class Checker {
  readonly findings: Finding[] = [];
  /** Global ARGs (before the first FROM) and their defaults, as a FROM sees them. */
  private readonly globals = new Map<string, string | undefined>();
  private readonly stages = new Map<string, StageScope>();
  private stage: StageScope | undefined;

  constructor(
    private readonly escape: EscapeChar,
    private readonly ignored: CheckOptions['ignored'],
    private readonly imageEnv: CheckOptions['imageEnv'],
  ) {}

  private report(rule: RuleName, line: number, message: string): void {
    this.findings.push({ rule, message, line });
  }

  /** A FROM's view of the variables: the global ARGs' defaults, and the platform args. */
  private readonly globalLookup: Lookup = (name) => (this.globals.has(name) ? this.globals.get(name) : PLATFORM_ARGS.get(name));

  visit(item: Instruction | FromInstruction): void {
    if (item.kind === 'FROM') return this.from(item);
    if (this.stage === undefined) {
      // Only ARG comes before the first FROM (the parser refuses anything else).
      if (item.kind === 'ARG') for (const arg of item.args) {
        this.secret('ARG', arg.name, item.line);
        this.globals.set(arg.name, arg.defaultRaw === undefined ? undefined : tryExpand(arg.defaultRaw, this.globalLookup, this.escape));
      }
      return;
    }
    this.instruction(this.stage, item);
  }

  private from(from: FromInstruction): void {
    const words = from.original.trim().split(/\s+/);
    const keyword = words[0] ?? 'FROM';
    const name = from.name?.toLowerCase();
    if (from.name !== undefined) this.stageName(from.name, keyword, words[words.length - 2] ?? 'AS', from.line);
    for (const word of from.platform === undefined ? [from.base] : [from.base, from.platform]) {
      for (const unknown of unknownNames(word, this.globalLookup, this.escape)) {
        if (this.globals.has(unknown)) continue;
        this.report('UndefinedArgInFrom', from.line, `FROM argument '${unknown}' is not declared${didYouMean(suggestion(unknown, [...this.globals.keys(), ...PLATFORM_ARGS.keys()]))}`);
      }
    }
    const base = tryExpand(from.base, this.globalLookup, this.escape) ?? '';
    if (from.base.includes('$') && !isReference(base)) {
      this.report('InvalidDefaultArgInFrom', from.line, `Default value for ARG ${from.base} results in empty or invalid base image name`);
    }
    if (from.platform !== undefined) this.platformFlag(from.platform, name ?? '', from.line);
    const parent = this.stages.get(base.toLowerCase());
    const env = parent ? undefined : base === 'scratch' ? [`PATH=${SCRATCH_PATH}`] : this.imageEnv?.(base);
    this.stage = {
      // scratch's environment is BuildKit's default PATH; an image's is its Env; a stage's is what its base stage had.
      vars: new Map<string, string | undefined>(parent ? parent.vars : envMap(env)),
      envKnown: parent ? parent.envKnown : env !== undefined,
      shellSet: parent?.shellSet ?? false,
      workdirSet: parent?.workdirSet ?? false,
      lastOnce: new Map(),
    };
    if (name !== undefined && !this.stages.has(name)) this.stages.set(name, this.stage);
  }

  /** `FROM image AS name`: the name's case and uniqueness, and the AS keyword's case. */
  private stageName(written: string, keyword: string, as: string, line: number): void {
    const name = written.toLowerCase();
    // A FROM of mixed case is ConsistentInstructionCasing's finding, not this one's.
    if (isOneCase(keyword) && as !== (keyword === keyword.toLowerCase() ? 'as' : 'AS')) {
      this.report('FromAsCasing', line, `'${as}' and '${keyword}' keywords' casing do not match`);
    }
    if (written !== name) this.report('StageNameCasing', line, `Stage name '${written}' should be lowercase`);
    if (RESERVED_STAGE_NAMES.has(name)) this.report('ReservedStageName', line, `Stage name should not use the same name as reserved stage "${name}"`);
    if (this.stages.has(name)) this.report('DuplicateStageName', line, `Duplicate stage name "${name}", stage names should be unique`);
  }

  /** RedundantTargetPlatform and FromPlatformFlagConstDisallowed: a FROM --platform that says nothing or pins one platform. */
  private platformFlag(platform: string, stageName: string, line: number): void {
    const { result, known, unknown } = expandTracked(platform, this.globalLookup, this.escape);
    // $TARGETPLATFORM alone is what a FROM without --platform gets.
    if (known.size === 1 && unknown.size === 0 && known.has('TARGETPLATFORM') && result === this.globalLookup('TARGETPLATFORM')) {
      this.report('RedundantTargetPlatform', line, `Setting platform to predefined ${platform} in FROM is redundant as this is the default behavior`);
    }
    // A platform from a variable is the point of --platform; only a constant one is reported.
    if (known.size > 0 || unknown.size > 0) return;
    let os: string;
    let architecture: string;
    try {
      ({ os, architecture } = parsePlatform(platform));
    } catch {
      return; // the build reports the bad platform itself
    }
    // A stage named for its platform (build_amd64) is meant to be that platform's.
    if (stageName.includes(os) || stageName.includes(architecture)) return;
    this.report('FromPlatformFlagConstDisallowed', line, `FROM --platform flag should not use constant value "${platform}"`);
  }

  private instruction(stage: StageScope, item: Instruction): void {
    if (ONCE_PER_STAGE.has(item.kind)) {
      const previous = stage.lastOnce.get(item.kind);
      // The earlier one is reported: it is the one the image will not have.
      if (previous !== undefined) {
        this.report('MultipleInstructionsDisallowed', previous, `Multiple ${item.kind} instructions should not be used in the same stage because only the last one will be used`);
      }
      stage.lastOnce.set(item.kind, item.line);
    }
    switch (item.kind) {
      case 'CMD':
      case 'ENTRYPOINT':
        // A SHELL instruction says the shell form is meant.
        if (item.form === 'shell' && !stage.shellSet) {
          this.report('JSONArgsRecommended', item.line, `JSON arguments recommended for ${item.kind} to prevent unintended behavior related to OS signals`);
        }
        break;
      case 'SHELL':
        stage.shellSet = true;
        break;
      case 'MAINTAINER':
        this.report('MaintainerDeprecated', item.line, 'Maintainer instruction is deprecated in favor of using label');
        break;
      case 'ENV':
      case 'LABEL':
        // The parser reads the legacy form when the first word has no "=".
        if (!/^\S*=/.test(item.original.trim().replace(/^\S+\s+/, ''))) {
          this.report('LegacyKeyValueFormat', item.line, `"${item.kind} key=value" should be used instead of legacy "${item.kind} key value" format`);
        }
        for (const pair of item.pairs) {
          this.variables(stage, pair.raw, item.line);
          if (item.kind === 'ENV') {
            this.secret('ENV', pair.key, item.line);
            stage.vars.set(pair.key, tryExpand(pair.raw, this.stageLookup(stage), this.escape) ?? '');
          }
        }
        break;
      case 'ARG':
        for (const arg of item.args) {
          if (arg.defaultRaw !== undefined) this.variables(stage, arg.defaultRaw, item.line);
          this.secret('ARG', arg.name, item.line);
          // An ARG without a default takes the global ARG's of that name.
          const value = arg.defaultRaw === undefined ? this.globals.get(arg.name) : tryExpand(arg.defaultRaw, this.stageLookup(stage), this.escape);
          stage.vars.set(arg.name, value);
        }
        break;
      case 'WORKDIR': {
        this.variables(stage, item.path, item.line);
        const workdir = tryExpand(item.path, this.stageLookup(stage), this.escape) ?? item.path;
        // Only the first WORKDIR is reported: the later ones are relative to it.
        if (!stage.workdirSet && !workdir.startsWith('/')) {
          this.report('WorkdirRelativePath', item.line, `Relative workdir "${workdir}" can have unexpected results if the base image changes`);
        }
        stage.workdirSet = true;
        break;
      }
      case 'COPY':
      case 'ADD':
        for (const word of [...item.sources, item.dest]) this.variables(stage, word, item.line);
        for (const flag of ['chown', 'chmod', 'from']) {
          const value = item.flags[flag];
          if (typeof value === 'string') this.variables(stage, value, item.line);
        }
        if (item.flags['from'] === undefined) this.ignoredSources(stage, item);
        break;
      case 'USER':
        this.variables(stage, item.user, item.line);
        break;
      case 'STOPSIGNAL':
        this.variables(stage, item.signal, item.line);
        break;
      case 'EXPOSE':
        for (const word of item.ports) {
          this.variables(stage, word, item.line);
          this.exposedPort(tryExpand(word, this.stageLookup(stage), this.escape) ?? word, item.line);
        }
        break;
      case 'VOLUME':
        for (const word of item.paths) this.variables(stage, word, item.line);
        break;
      default:
        // RUN and the shell forms are expanded by the shell, ONBUILD in the child build.
        break;
    }
  }

  /** An EXPOSE port is PORT[/PROTO]: an address or host port there is docker run's -p syntax, which EXPOSE ignores. */
  private exposedPort(port: string, line: number): void {
    const containerPort = port.slice(port.lastIndexOf(':') + 1);
    const slash = containerPort.indexOf('/');
    const proto = slash < 0 ? '' : containerPort.slice(slash + 1);
    if (proto !== proto.toLowerCase()) this.report('ExposeProtoCasing', line, `Defined protocol '${port}' in EXPOSE instruction should be lowercase`);
    if (port.includes(':')) this.report('ExposeInvalidFormat', line, `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`);
  }

  private stageLookup(stage: StageScope): Lookup {
    return (name) => stage.vars.get(name);
  }

  /** UndefinedVar: what `text` uses that the stage has not declared (when the stage's environment is known). */
  private variables(stage: StageScope, text: string, line: number): void {
    if (!stage.envKnown) return;
    for (const name of unknownNames(text, this.stageLookup(stage), this.escape)) {
      if (stage.vars.has(name)) continue;
      this.report('UndefinedVar', line, `Usage of undefined variable '$${name}'${didYouMean(suggestion(name, stage.vars.keys()), '$')}`);
    }
  }

  private secret(instruction: 'ARG' | 'ENV', key: string, line: number): void {
    if (SECRET_WORD.test(key) && !NOT_SECRET_WORD.test(key)) {
      this.report('SecretsUsedInArgOrEnv', line, `Do not use ARG or ENV instructions for sensitive data (${instruction} "${key}")`);
    }
  }

  /** CopyIgnoredFile: a source of the build context that its .dockerignore leaves out. */
  private ignoredSources(stage: StageScope, item: CopyInstruction | AddInstruction): void {
    if (this.ignored === undefined) return;
    for (const source of item.sources) {
      const expanded = tryExpand(source, this.stageLookup(stage), this.escape);
      if (expanded === undefined) continue;
      // ADD's URLs and git repositories are not in the context.
      if (item.kind === 'ADD' && /^[a-z][a-z0-9+.-]*:\/\/|^git@/i.test(expanded)) continue;
      const rel = path.posix.normalize(expanded).replace(/^\/+/, '').replace(/\/+$/, '');
      if (rel === '.' || rel === '' || rel.startsWith('../')) continue;
      if (this.ignored(rel)) {
        this.report('CopyIgnoredFile', item.line, `Attempting to ${item.kind === 'ADD' ? 'Add' : 'Copy'} file "${rel}" that is excluded by .dockerignore`);
      }
    }
  }
}

function isReference(text: string): boolean {
  try {
    parseReference(text);
    return text !== '';
  } catch {
    return false;
  }
}

/** ConsistentInstructionCasing: every keyword in the case most of the file's keywords are in. */
function casing(items: readonly (Instruction | FromInstruction)[]): Finding[] {
  const keywords = items.map((item) => ({ word: keywordAsWritten(item), line: item.line }));
  let lower = 0;
  let upper = 0;
  for (const { word } of keywords) {
    if (!isOneCase(word)) continue;
    if (word === word.toLowerCase()) lower++;
    else upper++;
  }
  const majority = lower > upper ? 'lowercase' : 'uppercase';
  const inMajority = (word: string) => word === (majority === 'lowercase' ? word.toLowerCase() : word.toUpperCase());
  return keywords.filter(({ word }) => !inMajority(word)).map(({ word, line }) => ({
    rule: 'ConsistentInstructionCasing' as const, line,
    message: `Command '${word}' should match the case of the command majority (${majority})`,
  }));
}

/**
 * Runs the checks on a Dockerfile's instructions (readInstructions), `file` naming it in errors.
 * Which rules run and whether they fail the build come from the `# check=` directive, or the
 * BUILDKIT_DOCKERFILE_CHECK build arg instead.
 */
export function checkDockerfile({ directives, escape, items }: InstructionList, file: string, options: CheckOptions = {}): CheckResult {
  const config = options.checkArg !== undefined
    ? parseCheckConfig(options.checkArg, 'BUILDKIT_DOCKERFILE_CHECK')
    : parseCheckConfig(directives['check'], `${file}: # check=`);
  const checker = new Checker(escape, options.ignored, options.imageEnv);
  for (const item of items) checker.visit(item);
  const findings = [...checker.findings, ...casing(items)]
    .filter((finding) => !isSkipped(config, finding.rule))
    .sort((a, b) => a.line - b.line);
  return { config, findings };
}

/**
 * The images the FROMs of a Dockerfile name (not scratch, not a stage), expanded as the checks
 * expand them: those whose Env checkDockerfile's imageEnv is asked for.
 */
export function fromImages({ escape, items }: InstructionList): string[] {
  const images = new Set<string>();
  const checker = new Checker(escape, undefined, (image) => {
    images.add(image);
    return undefined;
  });
  // The global ARGs and the FROMs are all a FROM's expansion and stage names depend on.
  for (const item of items) if (item.kind === 'FROM' || item.kind === 'ARG') checker.visit(item);
  return [...images];
}
