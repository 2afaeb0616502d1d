import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolatedFsError } from '../isolation/isolationErrors';

/** Names in a directory of the share, sorted, read in a helper; a directory not made yet has none. */
export async function dirNames(pool: Pick<FsHelperPool, 'run'>, dir: string, timeoutMs: number): Promise<string[]> {
  try {
    return (await pool.run({ op: 'readdir', path: dir }, timeoutMs)).sort();
  } catch (err) {
    if (err instanceof IsolatedFsError && err.code === 'ENOENT') return [];
    throw err;
  }
}
