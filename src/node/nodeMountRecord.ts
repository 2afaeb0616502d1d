import type { MountRegistration } from '../health/mountRegistration';
import type { MountIdentity } from '../isolation/pinnedTypes';

/**
 * A mount the node made (or is making), as the state file keeps it. `identity` is what mountinfo
 * showed right after the mount: only a mount with that identity at the path is taken for this
 * record. `pending` marks a record written before the mount command ran, so that a mount made
 * just before a crash is still known as the driver's on the retry.
 */
export type NodeMountRecord = MountRegistration & { identity?: MountIdentity; pending?: boolean };
