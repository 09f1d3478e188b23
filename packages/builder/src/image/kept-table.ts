// The small tables the store keeps across builds (blob checks, context digests, plan digests,
// compressed layers): JSON of { version, <field>: { key: value } }, replaced whole, a temp file
// named after this process (swept if it dies) renamed over the old one. Each is only a cache: a
// missing, cut-short or older file reads as empty, and what it held is worked out again once.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@tsrunc/runtime/platform';
import { processTag } from './process-tag.js';

/** The entries under `field` of the table in `file`, if it was written with `version`; else none. */
export function readKeptTable<V>(file: string, version: number, field: string): Record<string, V> {
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const entries = saved[field];
    if (saved.version === version && typeof entries === 'object' && entries !== null) return entries as Record<string, V>;
  } catch {
    // None yet, or cut short.
  }
  return {};
}

/** Replaces the table in `file` with `entries` under `field`. */
export function writeKeptTable(file: string, version: number, field: string, entries: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify({ version, [field]: entries }), { mode: 0o600, writer: processTag() });
}
