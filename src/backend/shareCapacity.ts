import { IsolatedFsError } from '../isolation/isolationErrors';
import type { StatfsResult } from '../isolation/fsOps';
import type { BatchRead } from './recordFile';
import type { ShareCapacity } from './records';
import { statfsBytes } from './statfsBytes';

/** A share's size and free space from its statfs. */
export function capacityOf(s: StatfsResult): ShareCapacity {
  const b = statfsBytes(s);
  return { totalBytes: b.totalBytes, availableBytes: b.availableBytes };
}

/** The statfs of a share root as a read of a batch: the storage's failure is thrown when it is decoded. */
export function capacityRead(root: string): BatchRead<ShareCapacity> {
  return {
    step: { req: { op: 'statfs', path: root }, tolerate: 'all' },
    decode(outcome) {
      if (!outcome.ok) throw new IsolatedFsError('statfs', root, outcome.code, outcome.message);
      return capacityOf(outcome.value as StatfsResult);
    },
  };
}
