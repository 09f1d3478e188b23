// tsbuild: a Dockerfile and a build context to an OCI image, used as `docker build` is.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dockerfileOf, readInstructions, toAst } from './dockerfile/index.js';
import { Build } from './engine/build.js';
import type { ImageState } from './engine/image-state.js';
import { exportImage, finalizeImage, parseOutput, type FinalImage } from './engine/export.js';
import { exportFilesystem, parseFilesystemOutput, type FilesystemOutput } from './engine/export-local.js';
import { ContextHashes } from './engine/context-hashes.js';
import { isGitSource } from './engine/git-source.js';
import { loadIgnore } from './engine/ignore.js';
import type { Progress } from './engine/progress.js';
import { PlainProgress } from './engine/progress-plain.js';
import { RawJsonProgress } from './engine/progress-rawjson.js';
import { TtyProgress } from './engine/progress-tty.js';
import { parseSize, prune } from './engine/prune.js';
import { parseBuildContexts } from './cli/build-context.js';
import { openBuildInput, type BuildInput } from './cli/build-input.js';
import { imageIdOf, parseLabels, QuietProgress, writeMetadataFile } from './cli/build-report.js';
import { imageEnvs } from './cli/image-envs.js';
import { STORE_COMMANDS, storeCommand } from './cli/store-commands.js';
import { checkDockerfile, checkReport, fromImages, violationError, warningSummary, type CheckOptions } from './lint/index.js';
import { readConfig } from './config/config-file.js';
import { parseImageOutput, pushImage, type ImageOutput } from './engine/push.js';
import { exportCaches, importCaches, parseCacheFrom, parseCacheTo } from './engine/remote-cache.js';
import { parseNetworkMode, type NetworkPolicy } from './engine/run-step.js';
import { parseSshAgents } from './engine/ssh-agent.js';
import { beginBuild, normalizeReference, openStore, storeRoot, type BuildSession, type BuilderStore } from './engine/store-root.js';
import { canonicalJson } from './image/layout.js';
import { sha256Digest } from './image/store.js';
import { login, loginDomain, logout } from './registry/login.js';
import { hostPlatform, parsePlatform } from './registry/platform.js';
import { Puller } from './registry/pull.js';
import { pullProgress } from './cli/pull-progress.js';
import { parseSnapshotChoice, type SnapshotChoice } from './run/snapshot.js';
import { parseAddHost, parseUlimit, type StepOptions } from './run/step-options.js';

const VERSION = 'tsbuild version 0.1.0';

const USAGE = `Usage:
  tsbuild [build] [-f Dockerfile|-] [-t name:tag]... [--build-arg K=V|K]... [--target STAGE] [--no-cache]
          [--check] [--progress auto|plain|tty|rawjson] [-q] [--iidfile FILE] [--metadata-file FILE] [--label K=V]...
          [-o type=oci|oci-archive|docker-archive,dest=PATH[,compression=zstd]]... [--root DIR]
          [-o type=local,dest=DIR|type=tar,dest=FILE|-]... [--add-host HOST:IP]... [--ulimit NAME=SOFT[:HARD]]...
          [--shm-size SIZE] [--build-context NAME=docker-image://REF|oci-layout://DIR|DIR]...
          [--secret id=ID,src=FILE]... [--ssh default|ID=SOCKET]... [--network default|none|host]
          [--allow network.host|security.insecure]... [--pull] [--platform OS/ARCH[/VARIANT]]
          [--push] [-o type=image,name=NAME[,push=true]|type=registry,name=NAME]... [--print ast]
          [--cache-from type=registry,ref=REF|type=local,src=DIR[,tag=TAG]]...
          [--cache-to type=registry,ref=REF|type=local,dest=DIR[,tag=TAG][,mode=min|max][,ignore-error=true]]... CONTEXT|-
  tsbuild login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]
  tsbuild logout [REGISTRY]
  tsbuild images
  tsbuild tag SOURCE TARGET
  tsbuild rmi NAME...
  tsbuild inspect NAME...
  tsbuild history [--no-trunc] NAME
  tsbuild unpack NAME[:TAG] BUNDLE_DIR
  tsbuild prune [--all] [--keep-storage SIZE]
  (every store command takes --root DIR)
  tsbuild --version
`;

const buildOptions = {
  file: { type: 'string', short: 'f' },
  tag: { type: 'string', short: 't', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  target: { type: 'string' },
  'no-cache': { type: 'boolean' },
  check: { type: 'boolean' },
  progress: { type: 'string' },
  output: { type: 'string', short: 'o', multiple: true },
  root: { type: 'string' },
  print: { type: 'string' },
  secret: { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  ssh: { type: 'string', multiple: true },
  network: { type: 'string' },
  push: { type: 'boolean' },
  pull: { type: 'boolean' },
  platform: { type: 'string' },
  label: { type: 'string', multiple: true },
  iidfile: { type: 'string' },
  'metadata-file': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'add-host': { type: 'string', multiple: true },
  ulimit: { type: 'string', multiple: true },
  'shm-size': { type: 'string' },
  'build-context': { type: 'string', multiple: true },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
} as const;

function buildArgs(list: string[] = []): Record<string, string> {
  const args: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      const value = process.env[item];
      if (value !== undefined) args[item] = value;
    } else {
      args[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return args;
}

/** --secret id=ID,src=FILE (or source=): the file stays on the host, bound read-only into RUN steps that ask. */
function parseSecrets(list: string[] = []): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const item of list) {
    const fields = Object.fromEntries(item.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const id = fields.id;
    const src = fields.src ?? fields.source;
    if (!id || !src) throw new Error(`--secret ${item}: id= and src= are required`);
    if (!fs.existsSync(src)) throw new Error(`--secret ${item}: ${src} does not exist`);
    secrets[id] = path.resolve(src);
  }
  return secrets;
}

const ENTITLEMENTS = ['network.host', 'security.insecure'];

/** --allow ENTITLEMENT: the privileges the build may use, BuildKit's two. */
function entitlements(list: string[] = []): Set<string> {
  for (const item of list) {
    if (!ENTITLEMENTS.includes(item)) throw new Error(`--allow ${item}: unknown entitlement (${ENTITLEMENTS.join(', ')})`);
  }
  return new Set(list);
}

/** --network: RUN's network when a step does not choose; the host's, as any RUN --network=host, needs network.host. */
function networkPolicy(flag: string | undefined, allowed: Set<string>): NetworkPolicy {
  const policy: NetworkPolicy = { default: flag === undefined ? 'default' : parseNetworkMode(flag, '--network'), allowHost: allowed.has('network.host') };
  if (policy.default === 'host' && !policy.allowHost) throw new Error('--network=host is not allowed: add --allow network.host');
  return policy;
}

/** --add-host, --ulimit (the last of a type wins) and --shm-size, for every RUN step. */
function stepOptions(values: BuildValues): StepOptions {
  const rlimits = new Map((values.ulimit ?? []).map(parseUlimit).map((r) => [r.type, r]));
  const shmSize = values['shm-size'] === undefined ? undefined : parseSize(values['shm-size']);
  if (shmSize === 0) throw new Error('--shm-size 0: the size must be above zero');
  return { extraHosts: (values['add-host'] ?? []).map(parseAddHost), rlimits: [...rlimits.values()], ...(shmSize !== undefined ? { shmSize } : {}) };
}

function snapshotter(): SnapshotChoice {
  const fromEnv = process.env.TSBUILD_SNAPSHOTTER;
  if (fromEnv !== undefined) return parseSnapshotChoice(fromEnv, 'TSBUILD_SNAPSHOTTER');
  const fromConfig = readConfig().run?.snapshotter;
  return fromConfig === undefined ? 'auto' : parseSnapshotChoice(fromConfig, 'run.snapshotter in the configuration file');
}

function sourceDateEpoch(args: Record<string, string>): number | undefined {
  const text = args.SOURCE_DATE_EPOCH ?? process.env.SOURCE_DATE_EPOCH;
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`SOURCE_DATE_EPOCH=${text}: not a number of seconds`);
  return Number(text);
}

const PROGRESS_MODES = ['auto', 'plain', 'tty', 'rawjson'];

/**
 * --progress, else BUILDKIT_PROGRESS as docker reads it: the live view on a terminal (auto) or when
 * asked for (tty, even on a pipe), BuildKit's JSON status stream (rawjson), else its plain log.
 */
function openProgress(flag: string | undefined): Progress {
  const [source, mode] = flag !== undefined ? ['--progress', flag] : ['BUILDKIT_PROGRESS', process.env.BUILDKIT_PROGRESS || 'auto'];
  if (!PROGRESS_MODES.includes(mode)) throw new Error(`invalid ${source} value "${mode}" (${PROGRESS_MODES.join(', ')})`);
  if (mode === 'rawjson') return new RawJsonProgress(process.stderr);
  const live = mode === 'tty' || (mode === 'auto' && process.stderr.isTTY);
  return live ? new TtyProgress(process.stderr) : new PlainProgress(process.stderr);
}

async function build(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: buildOptions, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new Error('build requires exactly 1 argument: the build context (a directory, a git URL, or - for stdin)');
  const input = await openBuildInput(positionals[0]!, values.file);
  try {
    return await buildInput(values, input);
  } finally {
    input.release();
  }
}

type BuildValues = ReturnType<typeof parseArgs<{ options: typeof buildOptions; allowPositionals: true; strict: true }>>['values'];

async function buildInput(values: BuildValues, input: BuildInput): Promise<number> {
  const { contextDir, dockerfilePath } = input;
  const dockerfileName = path.basename(dockerfilePath);
  const args = buildArgs(values['build-arg']);
  const ignore = loadIgnore(contextDir, dockerfilePath);
  const instructions = readInstructions(input.dockerfileText, dockerfileName);
  const platform = values.platform !== undefined ? parsePlatform(values.platform) : hostPlatform();
  const namedContexts = parseBuildContexts(values['build-context']);
  const runChecks = (imageEnv?: CheckOptions['imageEnv']) => checkDockerfile(instructions, dockerfileName, {
    ...(args.BUILDKIT_DOCKERFILE_CHECK !== undefined ? { checkArg: args.BUILDKIT_DOCKERFILE_CHECK } : {}),
    ignored: (rel) => ignore.ignores(rel),
    ...(imageEnv ? { imageEnv } : {}),
  });
  // The checks again, knowing the Env of the FROM images (from the store or pulled); a name given
  // by --build-context is no image of a registry.
  const runChecksWithImages = async (store: BuilderStore, registry: Puller) => runChecks(await imageEnvs(
    fromImages(instructions).filter((image) => namedContexts.images[image] === undefined && namedContexts.directories[image] === undefined),
    store, registry));
  // --check runs the build checks instead of the build, as docker build --check: findings fail it.
  // It reads the images of a store that exists, and makes none.
  if (values.check) {
    const root = storeRoot(values.root);
    const checkWithStore = async () => {
      const store = await openStore(root);
      const registry = new Puller(store.layout.blobs, store.root, { platform, refresh: values.pull === true });
      try {
        return await runChecksWithImages(store, registry);
      } finally {
        registry.close();
      }
    };
    const { findings } = fs.existsSync(root) ? await checkWithStore() : runChecks();
    process.stdout.write(checkReport(findings, dockerfileName, input.dockerfileText));
    return findings.length > 0 ? 1 : 0;
  }
  const dockerfile = dockerfileOf(instructions, dockerfileName);
  if (values.print !== undefined) {
    if (values.print !== 'ast') throw new Error(`--print ${values.print}: only "ast" is known`);
    process.stdout.write(JSON.stringify(toAst(dockerfile), null, 2) + '\n');
    return 0;
  }
  let checks = runChecks();
  // `# check=error=true`: a finding fails the build before any step runs (and before a store is made).
  const failOnFindings = () => {
    if (!checks.config.error || checks.findings.length === 0) return;
    process.stderr.write(warningSummary(checks.findings));
    throw violationError(checks.findings);
  };
  failOnFindings();
  // -o type=image|registry names images (pushed or not); local and tar write the filesystem; the other types write images.
  const imageOutputs: ImageOutput[] = [];
  const filesystemOutputs: FilesystemOutput[] = [];
  const outputs = (values.output ?? []).flatMap((text) => {
    const image = parseImageOutput(text);
    if (image) imageOutputs.push(image);
    const filesystem = image ? undefined : parseFilesystemOutput(text);
    if (filesystem) filesystemOutputs.push(filesystem);
    return image || filesystem ? [] : [parseOutput(text)];
  });
  if (values.push && !values.tag) throw new Error('--push needs a name to push to: add -t NAME');
  // -t name is name:latest, as docker names it: the name unpack and FROM look for.
  const tags = [...new Set([...(values.tag ?? []).map(normalizeReference), ...imageOutputs.map((o) => normalizeReference(o.name))])];
  const pushes = [...new Set([...(values.push ? values.tag ?? [] : []), ...imageOutputs.filter((o) => o.push).map((o) => o.name)])];
  const allowed = entitlements(values.allow);
  const network = networkPolicy(values.network, allowed);
  const labels = parseLabels(values.label);
  const options = stepOptions(values);
  const localContexts = Object.fromEntries(Object.entries(namedContexts.directories).map(([name, dir]) =>
    [name, { dir, ignore: loadIgnore(dir, path.join(dir, 'Dockerfile')), label: `build context "${name}"` }]));
  const cacheFrom = (values['cache-from'] ?? []).map(parseCacheFrom);
  const cacheTo = (values['cache-to'] ?? []).map(parseCacheTo);
  const quiet = values.quiet === true;
  const progress = quiet ? new QuietProgress() : openProgress(values.progress);
  // Ctrl-C (or a TERM) stops the running step's container and unwinds: no mount, container or
  // half-built tag is left behind. The build gives the event loop, where these handlers run, a
  // turn between steps, so that even thousands of metadata-only steps stop promptly.
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupt.abort());
  let summary: string;
  let image: FinalImage;
  let session: BuildSession | undefined;
  let registry: Puller | undefined;
  try {
    const store = await openStore(storeRoot(values.root));
    session = await beginBuild(store);
    registry = new Puller(store.layout.blobs, store.root, { platform, refresh: values.pull === true, watch: pullProgress(progress) });
    const load = progress.step(`[internal] load build definition from ${dockerfileName}`);
    load.done();
    checks = await runChecksWithImages(store, registry);
    failOnFindings();
    await importCaches(cacheFrom, store, registry, progress);
    const started = process.hrtime.bigint();
    const epoch = sourceDateEpoch(args);
    const run = new Build({
      signal: interrupt.signal,
      dockerfile, dockerfileName, buildArgs: args, secrets: parseSecrets(values.secret), noCache: values['no-cache'] === true, store, progress,
      context: {
        dir: contextDir, ignore, label: 'build context',
        hashes: ContextHashes.open(path.join(store.root, 'context-hashes'), contextDir),
      },
      ...(values.target !== undefined ? { target: values.target } : {}),
      ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
      allowInsecure: allowed.has('security.insecure'),
      network,
      sshAgents: parseSshAgents(values.ssh),
      snapshotter: snapshotter(),
      stepOptions: options,
      imageContexts: namedContexts.images,
      localContexts,
      registry,
    });
    let state: ImageState;
    try {
      state = await run.run();
    } finally {
      // Each step's entry was saved as it completed; what the build used (for pruning) is saved
      // too, whether it succeeded, failed or was interrupted.
      await store.cache.save();
    }
    // --label: on the image the build exports, over the Dockerfile's LABELs, as BuildKit sets them.
    if (Object.keys(labels).length > 0) state.config.config = { ...state.config.config, Labels: { ...state.config.config?.Labels, ...labels } };
    const exporting = progress.step('exporting to image');
    image = finalizeImage(state, run.epoch() ?? new Date().toISOString());
    await exportImage(store, image, tags, outputs);
    for (const output of filesystemOutputs) await exportFilesystem(store, image, output, epoch);
    exporting.done();
    const pushed: string[] = [];
    for (const name of pushes) {
      const pushing = progress.step(`pushing ${name}`);
      pushed.push(`pushed ${name}@${await pushImage(store, image, name, registry)}`);
      pushing.done();
    }
    await exportCaches(cacheTo, store, image.manifest.layers, registry, progress);
    // cache.max_size in the config file keeps the store within bounds after every build.
    const maxSize = readConfig().cache?.max_size;
    if (maxSize !== undefined) await session.pruneIfAlone(async () => { await prune(store, { all: false, keepBytes: parseSize(maxSize) }); });
    const digest = sha256Digest(canonicalJson(image.manifest));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Which snapshot RUN steps wrote to, as overlayfs may be unavailable and the copy is slower.
    const snapshots = run.snapshots();
    summary = `built ${digest}${tags.length > 0 ? ` as ${tags.join(', ')}` : ''} in ${seconds.toFixed(1)}s`
      + (snapshots.length > 0 ? ` (RUN snapshots: ${snapshots.join(', ')})` : '')
      + pushed.map((line) => `\n${line}`).join('');
  } catch (err) {
    // -q kept the log to itself: a failed build shows it, as docker build -q does.
    if (progress instanceof QuietProgress) process.stderr.write(progress.log());
    throw err;
  } finally {
    session?.end();
    registry?.close();
    // The final frame comes before the summary, or before the error main() prints.
    progress.close();
  }
  if (values.iidfile !== undefined) fs.writeFileSync(values.iidfile, imageIdOf(image));
  if (values['metadata-file'] !== undefined) writeMetadataFile(values['metadata-file'], image, tags);
  if (quiet) process.stdout.write(`${imageIdOf(image)}\n`);
  else process.stderr.write(warningSummary(checks.findings) + summary + '\n');
  return 0;
}

/** `tsbuild login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]`, as docker login. */
async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { username: { type: 'string', short: 'u' }, password: { type: 'string', short: 'p' }, 'password-stdin': { type: 'boolean' } },
  });
  if (positionals.length > 1) throw new Error('login takes at most 1 argument: the registry');
  if (!values.username) throw new Error('login: -u USER is required');
  if ((values.password === undefined) === (values['password-stdin'] !== true)) throw new Error('login: give the password with exactly one of -p PASSWORD and --password-stdin');
  const password = values.password ?? fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (password === '') throw new Error('login: the password is empty');
  const domain = loginDomain(positionals[0]);
  const where = await login(domain, { username: values.username, password });
  process.stdout.write(`Login Succeeded (credentials for ${domain} stored in ${where})\n`);
  return 0;
}

function logoutCommand(argv: string[]): number {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} });
  if (positionals.length > 1) throw new Error('logout takes at most 1 argument: the registry');
  const domain = loginDomain(positionals[0]);
  process.stdout.write(logout(domain) ? `Removing login credentials for ${domain}\n` : `Not logged in to ${domain}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === 'version') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return first === undefined ? 1 : 0;
  }
  if (first === 'login' || first === 'logout') return first === 'login' ? loginCommand(rest) : logoutCommand(rest);
  if (STORE_COMMANDS.includes(first)) return storeCommand(first, rest);
  if (first === 'build') return build(rest);
  // `tsbuild [flags] CONTEXT` builds too; a first word that is neither a flag nor a context is a mistyped command.
  if (!first.startsWith('-') && !isGitSource(first) && !fs.statSync(first, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`tsbuild: unknown command "${first}" (tsbuild --help lists the commands)\n`);
    return 1;
  }
  return build(argv);
}

/**
 * Every failure ends in this one line, even one that no code path caught (an 'error' event that no
 * listener heard): never a stack trace. What such a failure leaves, the next tsbuild removes.
 */
function fail(err: unknown): never {
  process.stderr.write(`tsbuild: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

process.on('uncaughtException', fail);
main(process.argv.slice(2)).then((code) => process.exit(code), fail);
