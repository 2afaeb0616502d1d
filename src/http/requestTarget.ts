/** A request target the HTTP servers accept, split into its path and query. */
export interface RequestTarget {
  path: string;
  query: URLSearchParams;
}

/** Longest request target served; anything longer is refused (414) before it is parsed. */
export const maxTargetLength = 2048;

/**
 * Parses a request target without ever throwing: the origin form (`/path?query`) and an
 * absolute form that `URL` understands. Anything else (`//[`, `http://[::1/`, `http://a:99999/`,
 * `*`, an empty target) is undefined, which the servers answer with 400: a target comes from
 * whoever reaches the port and must never take the process down.
 */
export function parseRequestTarget(raw: string | undefined): RequestTarget | undefined {
  if (!raw || raw.length > maxTargetLength) return undefined;
  // "//x" and "\\x" read as a host to URL parsers and as a path to others: neither is ours.
  if (raw.startsWith('//') || raw.includes('\\')) return undefined;
  let url: URL;
  try {
    url = raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return { path: url.pathname, query: url.searchParams };
}

/** decodeURIComponent that answers undefined for malformed escapes instead of throwing. */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
