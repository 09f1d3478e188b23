// Public API: document types plus validation backed by validators precompiled at build time
// (scripts/compile-validators.js), so importing this module compiles no schema.
import type { Spec } from './runtime-types.js';
import { formatValidationError } from './errors.js';
import * as validators from './validators.js';
import type { ValidateFn } from './validators.js';

export type * from './runtime-types.js';
export type * from './image-types.js';
export type { ValidateFn, ValidationError } from './validators.js';
export { MEDIA_TYPES } from './image-types.js';

export type DocumentKind =
  | 'spec'
  | 'state'
  | 'features'
  | 'descriptor'
  | 'index'
  | 'manifest'
  | 'imageConfig'
  | 'layout';

const validatorByKind: Record<DocumentKind, ValidateFn> = {
  spec: validators.validateSpec,
  state: validators.validateState,
  features: validators.validateFeatures,
  descriptor: validators.validateDescriptor,
  index: validators.validateIndex,
  manifest: validators.validateManifest,
  imageConfig: validators.validateImageConfig,
  layout: validators.validateLayout,
};

/** Validates a parsed document; returns undefined when valid, else a one-line `/pointer: problem`. */
export function checkDocument(kind: DocumentKind, doc: unknown): string | undefined {
  const validate = validatorByKind[kind];
  if (validate(doc)) return undefined;
  return formatValidationError(validate.errors?.[0]);
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses and validates a bundle's config.json; `source` (usually the file path) prefixes errors. */
export function parseRuntimeConfig(text: string, source: string): ParseResult<Spec> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${source}: invalid JSON: ${(err as Error).message}` };
  }
  const problem = checkDocument('spec', doc);
  if (problem !== undefined) return { ok: false, error: `${source}: ${problem}` };
  return { ok: true, value: doc as Spec };
}
