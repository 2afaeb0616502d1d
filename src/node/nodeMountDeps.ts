import type { Logger } from 'pino';
import type { NodeHealthView } from '../health/nodeHealthView';
import type { IsolatedFs } from '../isolation/isolatedFs';
import type { MountObserver } from '../mount/mounter';
import type { NodeStateStore } from './nodeStateStore';

export interface NodeMountDeps {
  pool: Pick<IsolatedFs, 'run'>;
  state: NodeStateStore;
  health: NodeHealthView;
  logger: Logger;
  /** Staging and target paths are walked from here, without following symlinks below it. */
  kubeletDir: string;
  /** Bind sources of staging mounts (the local share) are walked from here. */
  sourceBase?: string;
  /** Deadline of a look at a staging or target path. */
  pathTimeoutMs?: number;
  /** Deadline of one mount command. */
  mountTimeoutMs?: number;
  /** Deadline of one umount step (plain, -f, -l). */
  umountTimeoutMs?: number;
  observe?: MountObserver;
  faults?: { consume(op: 'mount' | 'stage' | 'publish'): void };
}
