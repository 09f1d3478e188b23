// exec --cgroup: the process joins existing sub-cgroups of the container's cgroup instead of the
// cgroup itself, with runc's rules. Each argument is "[controller[,controller]:]path"; a path
// without controllers (one argument only) applies to every hierarchy, which is the only form
// cgroup v2 has. A path may name the container's cgroup itself ("/", "."), never climb out of it.
import * as path from 'node:path';
import { CgroupError } from './files.js';
import type { CgroupRecord } from './types.js';

/** Sub-cgroup paths keyed by controller; the key "" is every hierarchy. */
export type SubCgroups = Record<string, string>;

/** The key of every hierarchy, as in runc's SubCgroupPaths. */
const ALL = '';

export function parseSubCgroupArgs(args: string[]): SubCgroups {
  const sub: SubCgroups = {};
  for (const arg of args) {
    const parts = arg.split(':');
    if (parts.length > 2) throw new CgroupError(`invalid --cgroup argument: ${arg}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new CgroupError(`invalid --cgroup argument: ${arg} (missing <controller>: prefix)`);
      sub[ALL] = arg;
      continue;
    }
    const [controllers = '', subPath = ''] = parts;
    for (const controller of controllers.split(',')) sub[controller] = subPath;
  }
  return sub;
}

/** `sub` under `dir`, refused unless it stays there. */
function below(dir: string, sub: string): string {
  const joined = path.join(dir, sub);
  if (joined !== dir && !joined.startsWith(`${dir}/`)) throw new CgroupError(`${sub} is not a sub cgroup path`);
  return joined;
}

/** The container's record with the named directories moved into their sub-cgroups. */
export function subCgroupRecord(record: CgroupRecord, sub: SubCgroups): CgroupRecord {
  const paths = { ...record.paths };
  const all = sub[ALL];
  if (all !== undefined) {
    for (const [key, dir] of Object.entries(paths)) paths[key] = below(dir, all);
    return { ...record, paths };
  }
  for (const [controller, subPath] of Object.entries(sub)) {
    const dir = paths[controller];
    if (dir === undefined) throw new CgroupError(`unknown controller ${controller} in --cgroup ${controller}:${subPath}`);
    paths[controller] = below(dir, subPath);
  }
  return { ...record, paths };
}
