// Which digest each pulled tag was resolved to, kept in the store (<root>/registry/tags.json):
// a later build uses the image it already has without asking the registry, until --pull. A tag is
// recorded only once everything it needs is in the content store.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@tsrunc/runtime/platform';

export class PulledTags {
  private readonly file: string;

  constructor(storeRoot: string) {
    this.file = path.join(storeRoot, 'registry', 'tags.json');
  }

  private read(): Record<string, string> {
    return fs.existsSync(this.file) ? (JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>) : {};
  }

  get(name: string): string | undefined {
    return this.read()[name];
  }

  /** Replaced atomically: a reader never sees a torn file (a record lost to a concurrent build only costs a pull). */
  set(name: string, digest: string): void {
    const tags = { ...this.read(), [name]: digest };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify(tags));
  }
}
