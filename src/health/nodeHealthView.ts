import type { StatfsResult } from '../isolation/fsOps';
import type { HealthIssue } from './healthIssue';
import type { MountRegistration } from './mountRegistration';

import type { StorageIssue } from '../backend/storageIssue';

export type { StorageIssue } from '../backend/storageIssue';

/** What the node service needs from the health monitor. */
export interface NodeHealthView {
  register(reg: MountRegistration): void;
  unregister(path: string): void;
  /** The mount is being taken down (or, with false, stays after all): stop probing it, keep reporting what was known. */
  retire(path: string, retiring?: boolean): void;
  /** Whether the mount's server is known to be gone (hung, disconnected, stale). */
  knownDead(path: string): boolean;
  /** Current adverse conditions of the mount at `path` (empty: healthy or not checked yet). */
  issuesOf(path: string): HealthIssue[];
  /** The last good statfs of the mount at `path`. */
  lastStatfs(path: string): StatfsResult | undefined;
  /** Remembers a good statfs taken outside the monitor's schedule. */
  recordStatfs(path: string, s: StatfsResult): void;
  /** The share as seen from this node. */
  storageIssues(): StorageIssue[];
}
