/**
 * Requests and results of the pinned path operations: mount, unmount and inspect a staging or
 * target path that a request or a pod can influence, resolved once without following symlinks
 * and acted on through the resolved directory (see pinnedMountOps.ts).
 */

/** What identifies a mount as the one the driver made: the filesystem and the directory of it that is mounted. */
export interface MountIdentity {
  /** major:minor of the filesystem, from mountinfo. */
  device: string;
  /** The directory of that filesystem mounted here (mountinfo's root, without a `//deleted` mark). */
  root: string;
}

/** What is at a path now, seen without following symlinks and without touching a mount there. */
export type PinnedPathState =
  | { kind: 'absent' }
  | { kind: 'directory' }
  | ({ kind: 'mount'; mountId: number; fsType: string; source: string; rootDeleted: boolean } & MountIdentity);

/** A bind source (walked like the target, from `base`) or a filesystem to mount. */
export type PinnedMountSource =
  { kind: 'bind'; base: string; path: string; expect?: MountIdentity } | { kind: 'fs'; fsType: string; device: string; options: string[] };

/** One mount or umount command the helper ran, for metrics. */
export interface PinnedCommandRun {
  op: 'mount' | 'bind' | 'umount' | 'umount_force' | 'umount_lazy' | 'umount_dead';
  seconds: number;
  ok: boolean;
}

export type PinnedRequest =
  | { op: 'pinnedInspect'; base: string; path: string }
  | { op: 'pinnedMount'; base: string; path: string; source: PinnedMountSource; readOnly: boolean; commandTimeoutMs: number }
  /**
   * Unmounts every mount stacked at `path` whose identity is `expect` (any, when `expect` is not
   * given and `anyMount` is set; none otherwise), then removes the directory if `removeDir` and empty.
   */
  | {
      op: 'pinnedUnmount';
      base: string;
      path: string;
      expect?: MountIdentity;
      anyMount: boolean;
      removeDir: boolean;
      commandTimeoutMs: number;
      /** The health monitor knows the mount dead: skip the normal umount, go to -f and -l. */
      knownDead?: boolean;
    };

export interface PinnedMountResult extends MountIdentity {
  mountId: number;
  commands: PinnedCommandRun[];
}

export interface PinnedUnmountResult {
  unmounted: number;
  /** The directory is gone (removed now, or was not there). */
  removed: boolean;
  commands: PinnedCommandRun[];
}

export interface PinnedResultMap {
  pinnedInspect: PinnedPathState;
  pinnedMount: PinnedMountResult;
  pinnedUnmount: PinnedUnmountResult;
}
