import type { StatfsResult } from '../isolation/fsOps';

/** Capacity figures of a filesystem in bytes, exact. */
export interface StatfsBytes {
  totalBytes: bigint;
  availableBytes: bigint;
  usedBytes: bigint;
}

/** Below this share of free space a volume or share is reported as running out of space (1 in 50: 2%). */
const lowSpaceDivisor = 50n;

/** The byte figures of a statfs result (its numbers travel as decimal strings from the helper). */
export function statfsBytes(s: StatfsResult): StatfsBytes {
  const bsize = BigInt(s.bsize);
  const blocks = BigInt(s.blocks);
  const used = blocks - BigInt(s.bfree);
  return { totalBytes: blocks * bsize, availableBytes: BigInt(s.bavail) * bsize, usedBytes: used > 0n ? used * bsize : 0n };
}

/** Is a filesystem low on space: at most 2% of it free? A filesystem reporting no size is not. */
export function isLowOnSpace(totalBytes: bigint, availableBytes: bigint): boolean {
  return totalBytes > 0n && availableBytes * lowSpaceDivisor <= totalBytes;
}
