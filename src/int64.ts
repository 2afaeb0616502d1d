/** The largest value of a protobuf int64: every capacity on the CSI wire fits below it. */
export const maxInt64 = (1n << 63n) - 1n;

const decimal = /^(0|[1-9][0-9]{0,18})$/;

/**
 * A non-negative int64 from its decimal text (the generated types carry int64 as strings),
 * or undefined when the text is not one. Exact: no floating point on the way.
 */
export function parseInt64(text: string): bigint | undefined {
  if (!decimal.test(text)) return undefined;
  const v = BigInt(text);
  return v <= maxInt64 ? v : undefined;
}

/** A byte count for the wire: figures the kernel reports above int64 (statfs of EFS) are capped, never wrapped. */
export function clampInt64(v: bigint): bigint {
  if (v < 0n) return 0n;
  return v > maxInt64 ? maxInt64 : v;
}
