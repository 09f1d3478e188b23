// Freezing waits for the kernel to report the whole cgroup frozen: a task in the middle of
// a fork or a syscall can delay it, and signalling before that would race with new children.
import { CgroupError, readCgroupFile, readOptional, sleepSync, writeCgroupFile } from './files.js';
import type { CgroupRecord } from './types.js';

const FREEZE_TIMEOUT_MS = 5000;
const POLL_MS = 10;

/**
 * Writes `request` and polls `isDone` until it holds. Some kernels leave a v1 cgroup stuck in
 * FREEZING unless the request is repeated, so it is rewritten on every poll.
 */
function waitFor(dir: string, file: string, request: string, isDone: () => boolean): boolean {
  for (let waited = 0; waited < FREEZE_TIMEOUT_MS; waited += POLL_MS) {
    writeCgroupFile(dir, file, request);
    if (isDone()) return true;
    sleepSync(POLL_MS);
  }
  return false;
}

export function freezeV1(dir: string): void {
  if (!waitFor(dir, 'freezer.state', 'FROZEN', () => readCgroupFile(dir, 'freezer.state') === 'FROZEN')) {
    writeCgroupFile(dir, 'freezer.state', 'THAWED');
    throw new CgroupError(`timed out freezing ${dir}: freezer.state never reached FROZEN`);
  }
}

export function thawV1(dir: string): void {
  if (!waitFor(dir, 'freezer.state', 'THAWED', () => readCgroupFile(dir, 'freezer.state') === 'THAWED')) {
    throw new CgroupError(`timed out thawing ${dir}: freezer.state never reached THAWED`);
  }
}

/** v2 reports the effective state as "frozen 0|1" in cgroup.events. */
function v2Frozen(dir: string): boolean {
  return /^frozen 1$/m.test(readCgroupFile(dir, 'cgroup.events'));
}

export function freezeV2(dir: string): void {
  if (!waitFor(dir, 'cgroup.freeze', '1', () => v2Frozen(dir))) {
    writeCgroupFile(dir, 'cgroup.freeze', '0');
    throw new CgroupError(`timed out freezing ${dir}: cgroup.events never showed "frozen 1"`);
  }
}

export function thawV2(dir: string): void {
  if (!waitFor(dir, 'cgroup.freeze', '0', () => !v2Frozen(dir))) {
    throw new CgroupError(`timed out thawing ${dir}: cgroup.events still shows "frozen 1"`);
  }
}

export type FreezeState = 'frozen' | 'thawed';

/** What was asked of the cgroup (FROZEN or 1), which is what pause and resume set. */
export function freezeStateV1(dir: string | undefined): FreezeState {
  return dir !== undefined && readOptional(dir, 'freezer.state') === 'FROZEN' ? 'frozen' : 'thawed';
}

export function freezeStateV2(dir: string): FreezeState {
  return readOptional(dir, 'cgroup.freeze') === '1' ? 'frozen' : 'thawed';
}

/** From a state record alone, so that `tsrunc state` need not load the cgroup managers. */
export function recordFreezeState(record: CgroupRecord): FreezeState {
  if (record.version === 1) return freezeStateV1(record.paths['freezer']);
  const dir = record.paths['unified'];
  return dir === undefined ? 'thawed' : freezeStateV2(dir);
}
