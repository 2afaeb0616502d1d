import { failedPrecondition } from '../grpc/csiError';
import type { MountIdentity, PinnedPathState } from '../isolation/pinnedTypes';
import type { NodeMountRecord } from './nodeMountRecord';

type Mounted = Extract<PinnedPathState, { kind: 'mount' }>;

const sameIdentity = (a: MountIdentity, b: MountIdentity): boolean => a.device === b.device && a.root === b.root;

/**
 * The identity of the mount at a path, if it is the one `rec` records there: with a recorded
 * identity, that identity; a record written just before a mount (a crash came between) takes
 * the mount there, of the staging mount's identity when it is a publish. Anything else is
 * another program's mount, never adopted, bound or taken down.
 */
export function recogniseMount(rec: NodeMountRecord | undefined, m: Mounted, bindOf?: MountIdentity): MountIdentity {
  const expected = rec?.identity ?? (rec ? bindOf : undefined);
  if (!rec || (expected && !sameIdentity(expected, m))) {
    throw failedPrecondition(
      `${rec?.path ?? 'the path'} is the mount point of something else (${m.fsType} ${m.source}); this driver leaves it alone`,
    );
  }
  return { device: m.device, root: m.root };
}
