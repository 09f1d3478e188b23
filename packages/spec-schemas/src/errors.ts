// Renders the first ajv error as one human-readable line naming the JSON pointer at fault.
import type { ValidationError } from './validators.js';

export function formatValidationError(error: ValidationError | undefined): string {
  if (error === undefined) return '/: invalid document';
  const pointer = error.instancePath === '' ? '/' : error.instancePath;
  return `${pointer}: ${error.message ?? error.keyword}${detail(error)}`;
}

// ajv's messages omit what was expected for some keywords; add it so the line is actionable.
function detail(error: ValidationError): string {
  const { keyword, params } = error;
  if (keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    return `: ${params['allowedValues'].map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (keyword === 'const') return `: ${JSON.stringify(params['allowedValue'])}`;
  if (keyword === 'additionalProperties') return `: ${String(params['additionalProperty'])}`;
  return '';
}
