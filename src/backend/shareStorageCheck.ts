import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolatedFsError, IsolationTimeoutError } from '../isolation/isolationErrors';
import type { StorageIssue } from './storageIssue';

/**
 * Reachability of a share directory as this process sees it: a stat and a statfs in a helper
 * with a deadline. A timeout or transport error means unreachable; a nearly full share degraded.
 */
export function shareStorageCheck(pool: FsHelperPool, root: string, timeoutMs: number): () => Promise<StorageIssue[]> {
  return async () => {
    try {
      await pool.run({ op: 'stat', path: root }, timeoutMs);
      const s = await pool.run({ op: 'statfs', path: root }, timeoutMs);
      if (s.blocks > 0 && s.bavail <= s.blocks * 0.02) {
        return [{ status: 'STORAGE_DEGRADED', reason: 'NoSpace', message: `the share has ${s.bavail * s.bsize} of ${s.blocks * s.bsize} bytes free` }];
      }
      return [];
    } catch (err) {
      if (err instanceof IsolationTimeoutError) return [{ status: 'STORAGE_UNREACHABLE', reason: 'ShareUnresponsive', message: err.message, code: 'ETIMEDOUT' }];
      const code = err instanceof IsolatedFsError ? err.code : 'EUNKNOWN';
      return [{ status: 'STORAGE_UNREACHABLE', reason: code === 'ESTALE' ? 'StaleFileHandle' : 'ShareInaccessible', message: `${code}: ${(err as Error).message}`, code }];
    }
  };
}
