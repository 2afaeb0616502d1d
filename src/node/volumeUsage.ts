import type { StatfsResult } from '../isolation/fsOps';
import { clampInt64 } from '../int64';
import { statfsBytes } from '../backend/statfsBytes';

/** One NodeGetVolumeStats usage entry: int64 figures as decimal strings, exact. */
export interface VolumeUsageEntry {
  unit: 'BYTES' | 'INODES';
  total: string;
  available: string;
  used: string;
}

/** The byte and inode usage of a statfs result, exact to the last byte and capped at int64. */
export function volumeUsage(s: StatfsResult): VolumeUsageEntry[] {
  const b = statfsBytes(s);
  const files = BigInt(s.files);
  const ffree = BigInt(s.ffree);
  const wire = (v: bigint): string => String(clampInt64(v));
  return [
    { unit: 'BYTES', total: wire(b.totalBytes), available: wire(b.availableBytes), used: wire(b.usedBytes) },
    { unit: 'INODES', total: wire(files), available: wire(ffree), used: wire(files - ffree) },
  ];
}
