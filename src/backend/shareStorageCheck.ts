import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolatedFsError, IsolationTimeoutError } from '../isolation/isolationErrors';
import type { StorageIssue } from './storageIssue';
import { isLowOnSpace, statfsBytes } from './statfsBytes';

/**
 * Reachability of a share directory as this process sees it: a stat and a statfs in a helper
 * with a deadline, in the probe lane (a dead share must not take CSI helpers). A timeout or transport error means unreachable; a nearly full share degraded.
 */
export function shareStorageCheck(pool: FsHelperPool, root: string, timeoutMs: number): () => Promise<StorageIssue[]> {
  return async () => {
    try {
      await pool.run({ op: 'stat', path: root }, timeoutMs, 'probe');
      const b = statfsBytes(await pool.run({ op: 'statfs', path: root }, timeoutMs, 'probe'));
      if (isLowOnSpace(b.totalBytes, b.availableBytes)) {
        return [
          { status: 'STORAGE_DEGRADED', reason: 'NoSpace', message: `the share has ${b.availableBytes} of ${b.totalBytes} bytes free` },
        ];
      }
      return [];
    } catch (err) {
      if (err instanceof IsolationTimeoutError)
        return [{ status: 'STORAGE_UNREACHABLE', reason: 'ShareUnresponsive', message: err.message, code: 'ETIMEDOUT' }];
      const code = err instanceof IsolatedFsError ? err.code : 'EUNKNOWN';
      return [
        {
          status: 'STORAGE_UNREACHABLE',
          reason: code === 'ESTALE' ? 'StaleFileHandle' : 'ShareInaccessible',
          message: `${code}: ${(err as Error).message}`,
          code,
        },
      ];
    }
  };
}
