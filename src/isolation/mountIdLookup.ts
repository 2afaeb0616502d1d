import { readFileSync } from 'node:fs';
import { mountIdsOf } from '../mount/mountTable';

/** Mount point -> id of the top-most mount there (a Map serves too). */
export interface MountIdLookup {
  get(mountPoint: string): number | undefined;
}

/**
 * The mount table of this moment, read from procfs (which never waits on a filesystem) the first
 * time it is asked and kept for the lookups that follow: one read per probe round at most, and
 * none when every mount is where the driver's own copy of the table says.
 */
export function freshMountIds(read: () => string = () => readFileSync('/proc/self/mountinfo', 'utf8')): MountIdLookup {
  let ids: Map<string, number> | undefined;
  return { get: (mountPoint) => (ids ??= mountIdsOf(read())).get(mountPoint) };
}
