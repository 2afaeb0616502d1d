import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolatedFsError } from '../isolation/isolationErrors';
import type { RecordRead } from './records';
import type { BatchOutcome, BatchStep } from '../isolation/fsOps';
import { recordJson, type RecordSchema } from './recordSchemas';
import { RecordCorruptError } from './recordErrors';

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
    if (err instanceof IsolatedFsError) {
      const read = notARecord(err.code);
      if (read) return read;
    }
    throw err;
  }
  return parseRecord(text, schema);
}

/** What a read error says about the record, when it says anything: absent, or not a record file. */
function notARecord(code: string): RecordRead<never> | undefined {
  if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent' };
  if (code === 'EFBIG' || code === 'EISDIR') return { state: 'corrupt', problem: `is not a record file (${code})` };
  return undefined;
}

function parseRecord<T>(text: string, schema: RecordSchema<T>): RecordRead<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { state: 'corrupt', problem: `is not valid JSON (${(err as Error).message})` };
  }
  const parsed = schema.parse(raw);
  return parsed.ok ? { state: 'ok', rec: parsed.rec } : { state: 'corrupt', problem: `is invalid: ${parsed.problem}` };
}

/**
 * The read of a record file as a step of a batch, so that several records come back in one
 * round trip. Every error of the read is the step's outcome, not the end of the batch; `decode`
 * turns the outcome into what readRecordFile would have answered, throwing the same
 * IsolatedFsError for a failure of the storage. Called only for the records a caller needs, a
 * read that failed where nobody looks costs nothing.
 */
export interface BatchRead<R> {
  step: BatchStep;
  decode(outcome: BatchOutcome): R;
}

export type RecordReadStep<T> = BatchRead<RecordRead<T>>;

export function recordReadStep<T>(file: string, schema: RecordSchema<T>): RecordReadStep<T> {
  return {
    step: { req: { op: 'readFile', path: file, maxBytes: maxRecordBytes }, tolerate: 'all' },
    decode(outcome) {
      if (outcome.ok) return parseRecord(outcome.value as string, schema);
      const read = notARecord(outcome.code);
      if (read) return read;
      throw new IsolatedFsError('readFile', file, outcome.code, outcome.message);
    },
  };
}

/** Writes a record file atomically (temp file, fsync, rename, fsync of the directory) in a helper. */
export async function writeRecordFile(pool: RecordRunner, file: string, rec: object, timeoutMs: number): Promise<void> {
  await pool.run({ op: 'writeFileAtomic', path: file, data: recordJson(rec) }, timeoutMs);
}

/** A record read that must name `id`: one naming another record is corrupt (`kind` says what it named). */
export function namingOwnId<T extends { id: string }>(id: string, read: RecordRead<T>, kind = 'volume'): RecordRead<T> {
  return read.state === 'ok' && read.rec.id !== id ? { state: 'corrupt', problem: `names another ${kind} (${read.rec.id})` } : read;
}

/** A record read step whose record must name `id`. */
export function ownRecordReadStep<T extends { id: string }>(
  file: string,
  schema: RecordSchema<T>,
  id: string,
  kind = 'volume',
): RecordReadStep<T> {
  const plain = recordReadStep(file, schema);
  return { step: plain.step, decode: (outcome) => namingOwnId(id, plain.decode(outcome), kind) };
}

/**
 * Runs record reads as one batch (one round trip, one deadline) and gives back, for each, a
 * function that decodes it (see RecordReadStep).
 */
export async function readRecordsTogether<R>(
  pool: RecordRunner,
  what: string,
  reads: BatchRead<R>[],
  timeoutMs: number,
): Promise<Array<() => R>> {
  return (await readRecordsThen(pool, what, reads, [], timeoutMs)).reads;
}

/**
 * readRecordsTogether, and after the reads, in the same round trip, the `then` steps: those run
 * only as far as their conditions on the reads' outcomes hold (BatchStep.onlyIf). `thenRan`
 * says whether every one of them ran. A failing `then` step fails the whole call.
 */
export async function readRecordsThen<R>(
  pool: RecordRunner,
  what: string,
  reads: BatchRead<R>[],
  then: BatchStep[],
  timeoutMs: number,
): Promise<{ reads: Array<() => R>; thenRan: boolean }> {
  const steps = [...reads.map((r) => r.step), ...then];
  const outcomes: BatchOutcome[] = await pool.run({ op: 'batch', path: what, steps }, timeoutMs);
  if (outcomes.length < reads.length) throw new Error(`${what}: the batch stopped before its reads were done`);
  return { reads: reads.map((r, i) => () => r.decode(outcomes[i]!)), thenRan: outcomes.length === steps.length };
}

/** The record of a read, undefined when absent; a corrupt one is an error that says what is wrong. */
export function usableRecord<T>(subject: string, file: string, read: RecordRead<T>): T | undefined {
  if (read.state === 'corrupt') throw new RecordCorruptError(subject, file, read.problem);
  return read.state === 'ok' ? read.rec : undefined;
}
