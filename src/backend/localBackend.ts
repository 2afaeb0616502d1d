import type { Logger } from 'pino';
import { shareStorageCheck } from './shareStorageCheck';
import { localSourceResolver } from './volumeSourceResolver';
import type { Backend } from './backend';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import { ShareStore } from './shareStore';

/** The embedded default: the share is a local directory; nodes bind-mount volume directories. */
export function createLocalBackend(localDir: string, pool: FsHelperPool, probeTimeoutMs: number, logger: Logger): Backend {
  const store = new ShareStore(async () => localDir, { pool, logger });
  return {
    store,
    context: { backend: 'local' },
    resolveSource: localSourceResolver(localDir),
    checkStorage: shareStorageCheck(pool, localDir, probeTimeoutMs),
    async init() {
      await pool.run({ op: 'mkdir', path: localDir }, 10_000);
      await store.ensureLayout();
    },
    async close() {},
  };
}
