// Container IDs become directory names under --root: the same rule as runc, so that no ID
// can name a path outside it.
const VALID_ID = /^[\w+.-]+$/;

export function validateId(id: string): void {
  if (!VALID_ID.test(id) || id === '.' || id === '..') throw new Error(`invalid id format: ${id}`);
}
