// The content digests of what COPY --from reads from an image's or a stage's filesystem, kept in
// the store across builds. Such a filesystem never changes: the layers it is made of (their chain
// id) fix every byte of it, so what a plan reads of it is known by that chain id and the plan,
// and a rebuild reads none of it again (a COPY --from of a node_modules read and hashed thousands
// of files on every build, changed or not). An entry goes when the store no longer holds the
// snapshot of its chain id (tsbuild prune removed it): the table follows the store.
import { readKeptTable, writeKeptTable } from '../image/kept-table.js';

const VERSION = 1;

export class PlanDigests {
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, string>,
  ) {}

  /**
   * The table kept in `file`. A missing or unreadable file is an empty table: it is only a cache.
   */
  static open(file: string): PlanDigests {
    return new PlanDigests(file, new Map(Object.entries(readKeptTable<string>(file, VERSION, 'plans'))));
  }

  /** The digest of `plan` (its text) read from the filesystem of chain id `chainId`, made by `read` if not known. */
  digest(chainId: string, plan: string, read: () => string): string {
    const key = `${chainId} ${plan}`;
    const known = this.entries.get(key);
    if (known !== undefined) return known;
    const digest = read();
    this.entries.set(key, digest);
    this.dirty = true;
    return digest;
  }

  /** Forgets the entries whose chain id `held` says the store no longer holds, and writes the table back if it changed. */
  save(held: (chainId: string) => boolean): void {
    for (const key of this.entries.keys()) {
      if (held(key.slice(0, key.indexOf(' ')))) continue;
      this.entries.delete(key);
      this.dirty = true;
    }
    if (!this.dirty) return;
    writeKeptTable(this.file, VERSION, 'plans', Object.fromEntries(this.entries));
    this.dirty = false;
  }
}
