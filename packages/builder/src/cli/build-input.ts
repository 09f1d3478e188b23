// Where a build's context and Dockerfile come from, as `docker build` takes them: a directory and
// its Dockerfile (or -f FILE), the Dockerfile on stdin (-f -), a git repository (URL#REF:SUBDIR,
// checked out as ADD checks one out, its subdirectory the context), or the context itself on
// stdin (`build -`): a tar archive (plain or compressed), or a Dockerfile alone with an empty context.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { checkoutGit, isGitSource } from '../engine/git-source.js';
import { extractLayer } from '../image/layer-reader.js';

export interface BuildInput {
  contextDir: string;
  /** The Dockerfile's path, for its name and its Dockerfile.dockerignore; it may not exist (stdin). */
  dockerfilePath: string;
  dockerfileText: string;
  /** Removes what the input made (a context unpacked from stdin). */
  release(): void;
}

/** gzip, bzip2, xz and zstd, as docker recognises a compressed context. */
const COMPRESSED_MAGIC = [[0x1f, 0x8b], [0x42, 0x5a, 0x68], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]];

/** A tar archive has "ustar" at offset 257 of its first header; a compressed one starts with its magic. */
function isArchive(bytes: Buffer): boolean {
  if (bytes.subarray(257, 262).toString('latin1') === 'ustar') return true;
  return COMPRESSED_MAGIC.some((magic) => magic.every((b, i) => bytes[i] === b));
}

function readStdin(what: string): Buffer {
  if (process.stdin.isTTY) throw new Error(`${what} is read from stdin, which is a terminal: pipe it in`);
  return fs.readFileSync(0);
}

/**
 * A context directory and its Dockerfile: -f FILE relative to `fileBase` (the working directory
 * for a local context, as docker's CLI takes it; the checkout for a git one), or - for stdin;
 * without -f, the context's Dockerfile.
 */
function fromDirectory(contextDir: string, file: string | undefined, fileBase: string, release: () => void): BuildInput {
  if (file === '-') {
    const dockerfileText = readStdin('-f -').toString('utf8');
    return { contextDir, dockerfilePath: path.join(contextDir, 'Dockerfile'), dockerfileText, release };
  }
  const dockerfilePath = file === undefined ? path.join(contextDir, 'Dockerfile') : path.resolve(fileBase, file);
  if (!fs.existsSync(dockerfilePath)) throw new Error(`failed to read dockerfile: open ${dockerfilePath}: no such file or directory`);
  return { contextDir, dockerfilePath, dockerfileText: fs.readFileSync(dockerfilePath, 'utf8'), release };
}

/** A git URL's checkout, in a directory of its own that release() removes (as it does on a failure). */
function fromGit(url: string, file: string | undefined): BuildInput {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-git-context-'));
  const release = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const checkout = checkoutGit(url, path.join(dir, 'checkout'), false, `build context ${url}`);
    return fromDirectory(checkout.dir, file, checkout.dir, release);
  } catch (err) {
    release();
    throw err;
  }
}

/** `context` is the CONTEXT argument ("-" for stdin); `file` is -f's value. */
export async function openBuildInput(context: string, file: string | undefined): Promise<BuildInput> {
  if (isGitSource(context)) return fromGit(context, file);
  if (context !== '-') {
    const contextDir = path.resolve(context);
    if (!fs.statSync(contextDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`build context ${contextDir} is not a directory`);
    return fromDirectory(contextDir, file, process.cwd(), () => {});
  }
  if (file === '-') throw new Error('-f - and the context - cannot both be read from stdin');
  const bytes = readStdin('the build context "-"');
  const contextDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-context-'));
  const release = () => fs.rmSync(contextDir, { recursive: true, force: true });
  try {
    if (!isArchive(bytes)) {
      // A Dockerfile alone: the context is empty, as docker sends it.
      if (file !== undefined) throw new Error(`-f ${file}: the context on stdin is a Dockerfile, not an archive that could hold ${file}`);
      return { contextDir, dockerfilePath: path.join(contextDir, 'Dockerfile'), dockerfileText: bytes.toString('utf8'), release };
    }
    // Unpacked as a layer is: every entry resolved inside the directory, none through a symlink out.
    await extractLayer(Readable.from([bytes]), contextDir);
    const dockerfilePath = path.resolve(contextDir, file ?? 'Dockerfile');
    if (path.relative(contextDir, dockerfilePath).startsWith('..')) throw new Error(`-f ${file}: outside the context archive`);
    const stat = fs.lstatSync(dockerfilePath, { throwIfNoEntry: false });
    if (!stat?.isFile()) throw new Error(`failed to read dockerfile: ${file ?? 'Dockerfile'} is not a file in the context archive`);
    return { contextDir, dockerfilePath, dockerfileText: fs.readFileSync(dockerfilePath, 'utf8'), release };
  } catch (err) {
    release();
    throw err;
  }
}
