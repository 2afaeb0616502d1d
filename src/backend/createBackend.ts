import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Backend } from './backend';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import type { Mounter } from '../mount/mounter';
import { createLocalBackend } from './localBackend';
import { createNfsBackend } from './nfsBackend';

/**
 * Builds the backend named by --backend.
 * @throws Error for a backend configuration that cannot work (reported at start).
 */
export function createBackend(cfg: Config, pool: FsHelperPool, mounter: Mounter, logger: Logger): Backend {
  switch (cfg.backend) {
    case 'local':
      return createLocalBackend(cfg.localDir, pool, cfg.healthCheckTimeoutMs, logger);
    case 'nfs':
      return createNfsBackend({
        nfs: cfg.nfs,
        mode: cfg.mode,
        stateDir: cfg.stateDir,
        pool,
        mounter,
        logger,
        checkTimeoutMs: cfg.healthCheckTimeoutMs,
        shareRootOnNode: cfg.enableAttach,
      });
  }
}
