import { aborted, invalidArgument } from './csiError';

/** Opaque page tokens: base64url of `p1:<id to start at>`. Anything else is ABORTED, as the spec asks. */
export function encodePageToken(startId: string): string {
  return Buffer.from(`p1:${startId}`, 'utf8').toString('base64url');
}

export function decodePageToken(token: string): string | undefined {
  if (!token) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('p1:') || encodePageToken(text.slice(3)) !== token) throw aborted(`invalid starting_token "${token}"`);
  return text.slice(3);
}

/** One page of items sorted by id, starting at the token's id, with the next token when more remain. */
export function paginate<T extends { id: string }>(
  sorted: T[],
  maxEntries: number,
  startingToken: string,
): { page: T[]; nextToken: string } {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw invalidArgument('max_entries must not be negative');
  const start = decodePageToken(startingToken);
  const from = start === undefined ? 0 : sorted.findIndex((v) => v.id >= start);
  if (from < 0) return { page: [], nextToken: '' };
  const end = maxEntries > 0 ? from + maxEntries : sorted.length;
  const page = sorted.slice(from, end);
  const next = sorted[end];
  return { page, nextToken: next ? encodePageToken(next.id) : '' };
}
