import { createHash } from 'node:crypto';
import { InvalidIdentifierError } from './backendErrors';

const refuse = (message: string): InvalidIdentifierError => new InvalidIdentifierError(message);

/**
 * CSI ids and names we accept: at most 128 bytes, no NUL, no slash, not `.` or `..`.
 * @throws InvalidIdentifierError naming the field and what is wrong with it.
 */
export function checkIdentifier(field: string, value: string): void {
  if (!value) throw refuse(`${field} is required`);
  if (Buffer.byteLength(value, 'utf8') > 128) throw refuse(`${field} is longer than 128 bytes`);
  if (value.includes('\0')) throw refuse(`${field} contains a NUL byte`);
  if (value.includes('/')) throw refuse(`${field} contains "/"`);
  if (value.includes('..')) throw refuse(`${field} contains ".."`);
  if (value === '.') throw refuse(`${field} is "."`);
}

const safeName = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * The id (and directory name on the share) of a volume or snapshot, derived from its name so
 * that a retried Create finds what the first attempt made. Kubernetes names (pvc-<uid>,
 * snapshot-<uid>) are kept as they are for operators reading the share; anything else is hashed.
 */
export function idFromName(name: string): string {
  if (safeName.test(name) && !name.startsWith('h-')) return name;
  return `h-${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}
