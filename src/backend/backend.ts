import type { ShareStore } from './shareStore';
import type { StorageIssue } from './storageIssue';
import type { VolumeSourceResolver } from './volumeSourceResolver';

/** What the controller tells nodes about where a volume lives. */
export interface VolumeContextSource {
  backend: 'local' | 'nfs';
  server?: string;
  share?: string;
}

/** One storage backend, as the services see it. */
export interface Backend {
  /** The controller's store of volume directories on the share. */
  store: ShareStore;
  /** What the controller puts into volume_context for nodes. */
  context: VolumeContextSource;
  /** How a node mounts a volume. */
  resolveSource: VolumeSourceResolver;
  /** Reachability of the share from this process, run by the monitor once per interval. */
  checkStorage: () => Promise<StorageIssue[]>;
  /** Prepares what the backend needs (directories, the controller's work mount). */
  init(): Promise<void>;
  /** Releases what init() made (e.g. unmounts the controller's work mount). */
  close(): Promise<void>;
}
