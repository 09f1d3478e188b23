// What a running tsbuild has outside its store's files: a scratch directory (its TMPDIR, where
// RUN snapshots are mounted, bundles made and layers staged) and the RUN containers of its tsrunc
// state root inside it. Each build records that directory in <store>/run/<process tag>, so a build
// that is killed (SIGKILL gives it no chance to clean up) is cleaned up after by the next tsbuild
// on the store: its containers deleted (killed, cgroups removed), its mounts released, its scratch
// directory removed, each named on stderr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processTag, tagIsLive } from '../image/process-tag.js';
import { unmount } from '../run/mount.js';
import { mountPointsUnder } from '@tsrunc/runtime/platform';
import { CONTAINER_STATE_DIR } from '../run/container.js';
import { tsruncClient } from '../run/tsrunc-client.js';

const SCRATCH_PREFIX = 'tsbuild-';

function recordDir(storeRoot: string): string {
  return path.join(storeRoot, 'run');
}

/**
 * Makes this process' scratch directory under TMPDIR and records it in the store; from here on
 * TMPDIR is that directory, for this process and what it starts, so everything they put there is
 * in one place that the record names. Returns a function that removes both, for a build that ends.
 */
export function beginRun(storeRoot: string): () => void {
  const records = recordDir(storeRoot);
  fs.mkdirSync(records, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${SCRATCH_PREFIX}${processTag()}-`));
  const record = path.join(records, processTag());
  try {
    fs.writeFileSync(record, scratch);
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
  process.env.TMPDIR = scratch;
  return () => {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(record, { force: true });
  };
}

/** Deletes (killing them first) the containers left in a tsrunc state root; returns their ids. */
async function deleteContainers(stateRoot: string): Promise<string[]> {
  if (!fs.existsSync(stateRoot)) return [];
  const tsrunc = tsruncClient(stateRoot);
  const ids = await tsrunc.list();
  for (const id of ids) await tsrunc.forceDelete(id);
  return ids;
}

/** Removes what the killed build `tag` recorded in `record` left behind, telling `report` each thing. */
async function sweepRun(tag: string, record: string, report: (line: string) => void): Promise<void> {
  const scratch = fs.readFileSync(record, 'utf8');
  const who = `killed build ${tag.split('-')[0]}`;
  // A record names a scratch directory that a build made; anything else is not this sweep's to remove.
  if (path.isAbsolute(scratch) && path.basename(scratch).startsWith(`${SCRATCH_PREFIX}${tag}-`) && fs.existsSync(scratch)) {
    for (const id of await deleteContainers(path.join(scratch, CONTAINER_STATE_DIR))) report(`deleted container ${id} of ${who}`);
    for (const point of mountPointsUnder(scratch)) {
      unmount(point);
      report(`unmounted ${point} of ${who}`);
    }
    const left = mountPointsUnder(scratch);
    // Removing a tree with a mount still in it would remove what is mounted (a bind of the context).
    if (left.length > 0) throw new Error(`cannot clean up after ${who}: ${left.join(', ')} still mounted`);
    fs.rmSync(scratch, { recursive: true, force: true });
    report(`removed ${scratch} of ${who}`);
  }
  fs.rmSync(record, { force: true });
}

const CLAIMED = '.swept-by-';

/**
 * Cleans up after every build on this store whose process no longer runs. A sweep first claims a
 * record by renaming it to <tag>.swept-by-<its own tag> (atomic: of builds starting at once, one
 * sweeps each record), and takes over a claim whose sweeper was killed in turn.
 */
export async function sweepDeadRuns(storeRoot: string, report: (line: string) => void): Promise<void> {
  const records = recordDir(storeRoot);
  const names = fs.existsSync(records) ? fs.readdirSync(records) : [];
  for (const name of names) {
    const [tag = '', sweeper] = name.split(CLAIMED);
    if (tagIsLive(tag) || (sweeper !== undefined && tagIsLive(sweeper))) continue;
    const claimed = path.join(records, `${tag}${CLAIMED}${processTag()}`);
    try {
      fs.renameSync(path.join(records, name), claimed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another sweep has it
      throw err;
    }
    try {
      await sweepRun(tag, claimed, report);
    } catch (err) {
      // Said, not thrown: a build must not fail for what another left. The claim stays, and is
      // taken over by the next tsbuild once this one has exited.
      report(`cannot clean up after killed build ${tag.split('-')[0]} yet: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
