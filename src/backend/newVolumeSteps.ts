import * as path from 'node:path';
import type { BatchStep } from '../isolation/fsOps';
import type { VolumeRecord } from './records';
import { recordJson } from './recordSchemas';

/** A new volume's making, to join the round trip of the reads that find it new. */
export interface NewVolumeSteps {
  /** `exists` of the volume's directory (no symlink followed): the steps run only if it answers no. */
  dirLook: BatchStep;
  steps: BatchStep[];
}

/**
 * An empty volume in `dir`: its data directory, its record, then the `then` steps (the registry
 * entry). Run only where nothing is (see dirLook), so there is nothing of an earlier attempt to
 * clear first, and every step is small.
 */
export function newEmptyVolumeSteps(dir: string, rec: VolumeRecord, then: BatchStep[]): NewVolumeSteps {
  return {
    dirLook: { req: { op: 'exists', path: dir }, tolerate: 'all' },
    steps: [
      { req: { op: 'mkdir', path: path.join(dir, 'data'), mode: 0o777 } },
      { req: { op: 'writeFileAtomic', path: path.join(dir, 'volume.json'), data: recordJson(rec) } },
      ...then,
    ],
  };
}
