import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolatedFsError } from '../isolation/isolationErrors';
import type { RecordRead } from './records';
import { recordJson, type RecordSchema } from './recordSchemas';

/** The isolated file operations record files need. */
export type RecordRunner = Pick<FsHelperPool, 'run'>;

/** Records are small; anything larger is not one of ours. */
const maxRecordBytes = 1024 * 1024;

/**
 * Reads a record file in a helper and checks it against its schema. A missing file is `absent`;
 * a file that is not JSON, or not this record, is `corrupt` with what is wrong. Failures of the
 * storage itself (timeouts, I/O errors, an exhausted pool) are thrown: they say nothing about the record.
 */
export async function readRecordFile<T>(
  pool: RecordRunner,
  file: string,
  schema: RecordSchema<T>,
  timeoutMs: number,
): Promise<RecordRead<T>> {
  let text: string;
  try {
    text = await pool.run({ op: 'readFile', path: file, maxBytes: maxRecordBytes }, timeoutMs);
  } catch (err) {
    if (err instanceof IsolatedFsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return { state: 'absent' };
    if (err instanceof IsolatedFsError && (err.code === 'EFBIG' || err.code === 'EISDIR'))
      return { state: 'corrupt', problem: `is not a record file (${err.code})` };
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { state: 'corrupt', problem: `is not valid JSON (${(err as Error).message})` };
  }
  const parsed = schema.parse(raw);
  return parsed.ok ? { state: 'ok', rec: parsed.rec } : { state: 'corrupt', problem: `is invalid: ${parsed.problem}` };
}

/** Writes a record file atomically (temp file, fsync, rename, fsync of the directory) in a helper. */
export async function writeRecordFile(pool: RecordRunner, file: string, rec: object, timeoutMs: number): Promise<void> {
  await pool.run({ op: 'writeFileAtomic', path: file, data: recordJson(rec) }, timeoutMs);
}
