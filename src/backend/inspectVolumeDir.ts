import * as path from 'node:path';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from '../isolation/isolationErrors';
import type { RecordRead, VolumeInspection, VolumeRecord } from './records';

/** Where a volume lives on the share and how its volume.json is read (ShareStore). */
export interface VolumeDirReader {
  volumeDir(id: string): Promise<string>;
  readVolume(id: string, timeoutMs: number): Promise<RecordRead<VolumeRecord>>;
}

/**
 * Is the volume still there, reachable, and its record intact? Answers what is wrong as data:
 * the directory gone, data/ gone, volume.json missing or corrupt, or the storage not answering.
 * Throws only when this process cannot look at all (no helper to spare), which says nothing
 * about the volume.
 */
export async function inspectVolumeDir(
  pool: Pick<FsHelperPool, 'run'>,
  share: VolumeDirReader,
  id: string,
  timeoutMs: number,
): Promise<VolumeInspection> {
  try {
    const dir = await share.volumeDir(id);
    const exists = await pool.run({ op: 'exists', path: dir }, timeoutMs);
    if (!exists)
      return {
        exists: false,
        accessible: false,
        metadataIntact: false,
        code: 'ENOENT',
        message: `the directory volumes/${id} is gone from the share`,
      };
    const meta = await share.readVolume(id, timeoutMs);
    const metadata =
      meta.state === 'ok'
        ? { metadataIntact: true, record: meta.rec }
        : { metadataIntact: false, metadataProblem: meta.state === 'absent' ? 'is missing' : meta.problem };
    const data = await statDataDir(pool, dir, timeoutMs);
    if (data === 'ok') return { exists: true, accessible: true, ...metadata };
    const [code, what] = data === 'missing' ? ['ENOENT', 'is missing'] : ['ENOTDIR', 'is not a directory'];
    return { exists: true, accessible: false, dataMissing: true, ...metadata, code, message: `data/ of volume ${id} ${what}` };
  } catch (err) {
    if (err instanceof HelpersExhaustedError) throw err;
    const code = err instanceof IsolatedFsError ? err.code : err instanceof IsolationTimeoutError ? 'ETIMEDOUT' : 'EUNKNOWN';
    return { exists: true, accessible: false, metadataIntact: false, code, message: (err as Error).message };
  }
}

async function statDataDir(pool: Pick<FsHelperPool, 'run'>, dir: string, timeoutMs: number): Promise<'ok' | 'missing' | 'notDirectory'> {
  try {
    const st = await pool.run({ op: 'stat', path: path.join(dir, 'data') }, timeoutMs);
    return st.isDirectory ? 'ok' : 'notDirectory';
  } catch (err) {
    if (err instanceof IsolatedFsError && err.code === 'ENOENT') return 'missing';
    throw err;
  }
}
