import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Backend } from './backend';
import type { FsHelperPool } from './fsHelperPool';
import type { Mounter } from './mounter';
import { createLocalBackend } from './localBackend';

/** Builds the backend named by --backend. */
export function createBackend(cfg: Config, pool: FsHelperPool, mounter: Mounter, logger: Logger): Backend {
  switch (cfg.backend) {
    case 'local':
      return createLocalBackend(cfg.localDir, pool, cfg.healthCheckTimeoutMs, logger);
    case 'nfs':
      void mounter;
      throw new Error('the nfs backend is not available in this build yet');
  }
}
