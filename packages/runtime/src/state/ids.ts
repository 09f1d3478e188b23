// Container IDs become directory names under --root: the same rule as runc, so that no ID
// can name a path outside it.
const VALID_ID = /^[\w+.-]+$/;

export function isValidId(id: string): boolean {
  return VALID_ID.test(id) && id !== '.' && id !== '..';
}

export function validateId(id: string): void {
  if (!isValidId(id)) throw new Error(`invalid id format: ${id}`);
}
