const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses durations written like `500ms`, `2s`, `1.5m`, `1h` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) {
    throw new Error(`invalid duration "${text}": write a number with a unit (ms, s, m, h), e.g. 500ms, 30s, 1m`);
  }
  return Math.round(Number(m[1]) * (units[m[2]] ?? 1));
}
