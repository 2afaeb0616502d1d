const secretKey = /(^|_)secrets?$/i;

/**
 * A copy of a request fit for the log: every field named `secrets` (or `*_secrets`) is replaced
 * by a marker, at any depth, so that credentials never reach logs.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (secretKey.test(k)) out[k] = v && typeof v === 'object' && Object.keys(v).length === 0 ? {} : '[REDACTED]';
    else out[k] = redactSecrets(v);
  }
  return out;
}

/** Longest request the debug log carries whole (a caller can send megabytes of parameters). */
export const maxLoggedRequestChars = 4_096;

/** A redacted request as the debug log keeps it: whole when small, else its start and its size. */
export function forTheLog(redacted: unknown): unknown {
  const text = JSON.stringify(redacted) ?? '';
  if (text.length <= maxLoggedRequestChars) return redacted;
  return { truncated: true, chars: text.length, start: text.slice(0, maxLoggedRequestChars) };
}
