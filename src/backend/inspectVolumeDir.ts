import * as path from 'node:path';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import type { BatchOutcome, BatchStep } from '../isolation/fsOps';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from '../isolation/isolationErrors';
import type { RecordReadStep } from './recordFile';
import type { VolumeInspection, VolumeRecord } from './records';

/** Where a volume lives on the share and how its volume.json is read in a batch (ShareStore). */
export interface VolumeDirReader {
  volumeDir(id: string): Promise<string>;
  readVolumeStep(id: string): Promise<RecordReadStep<VolumeRecord>>;
}

/** The steps of one volume's look: its directory, its volume.json, its data/. */
const stepsPerVolume = 3;

/**
 * Is each volume still there, reachable, and its record intact? Answers what is wrong as data:
 * the directory gone, data/ gone, volume.json missing or corrupt, or the storage not answering.
 * Every volume's look runs in one round trip to a helper, under the one deadline `timeoutMs`;
 * a group that overstays it is looked at again as lookOneByOne says.
 * Throws only when this process cannot look at all (no helper to spare), which says nothing
 * about the volumes.
 */
export async function inspectVolumeDirs(
  pool: Pick<FsHelperPool, 'run'>,
  share: VolumeDirReader,
  ids: string[],
  timeoutMs: number,
): Promise<VolumeInspection[]> {
  const looks = await Promise.all(ids.map(async (id) => ({ id, dir: await share.volumeDir(id), meta: await share.readVolumeStep(id) })));
  const steps: BatchStep[] = looks.flatMap(({ dir, meta }) => [
    { req: { op: 'exists', path: dir }, tolerate: 'all' },
    meta.step,
    { req: { op: 'stat', path: path.join(dir, 'data') }, tolerate: 'all' },
  ]);
  let outcomes: BatchOutcome[];
  try {
    const what = ids.length === 1 ? `volumes/${ids[0]!} (inspect)` : `${ids.length} volumes (inspect)`;
    outcomes = await pool.run({ op: 'batch', path: what, steps }, timeoutMs);
  } catch (err) {
    if (err instanceof HelpersExhaustedError) throw err;
    if (err instanceof IsolationTimeoutError && ids.length > 1) return lookOneByOne(pool, share, ids, timeoutMs, err);
    return ids.map(() => notAnswering(err));
  }
  return looks.map((look, i) => inspectionOf(look, outcomes.slice(i * stepsPerVolume, (i + 1) * stepsPerVolume)));
}

/**
 * A group that overstayed its one deadline: the share does not answer, or it answers slowly,
 * and then each volume deserves the deadline a look at it alone has. The first volume alone
 * tells the two apart: when it does not answer either, the share is taken for hung and every
 * volume of the group is reported not answering (two helpers lost to it, not one per volume);
 * when it does, the others are looked at one by one, all at once.
 */
async function lookOneByOne(
  pool: Pick<FsHelperPool, 'run'>,
  share: VolumeDirReader,
  ids: string[],
  timeoutMs: number,
  groupTimeout: IsolationTimeoutError,
): Promise<VolumeInspection[]> {
  const [first] = await inspectVolumeDirs(pool, share, ids.slice(0, 1), timeoutMs);
  if (first!.code === 'ETIMEDOUT') return ids.map(() => notAnswering(groupTimeout));
  const rest = await Promise.all(ids.slice(1).map(async (id) => (await inspectVolumeDirs(pool, share, [id], timeoutMs))[0]!));
  return [first!, ...rest];
}

/** inspectVolumeDirs of one volume. */
export async function inspectVolumeDir(
  pool: Pick<FsHelperPool, 'run'>,
  share: VolumeDirReader,
  id: string,
  timeoutMs: number,
): Promise<VolumeInspection> {
  return (await inspectVolumeDirs(pool, share, [id], timeoutMs))[0]!;
}

/** What a look that could not be made says: the volume is there as far as anyone knows, and does not answer. */
function notAnswering(err: unknown): VolumeInspection {
  const code = err instanceof IsolatedFsError ? err.code : err instanceof IsolationTimeoutError ? 'ETIMEDOUT' : 'EUNKNOWN';
  return { exists: true, accessible: false, metadataIntact: false, code, message: (err as Error).message };
}

function failureOf(op: string, file: string, o: BatchOutcome): IsolatedFsError | undefined {
  return o.ok ? undefined : new IsolatedFsError(op, file, o.code, o.message);
}

function inspectionOf(
  look: { id: string; dir: string; meta: RecordReadStep<VolumeRecord> },
  [exists, metaRead, dataStat]: BatchOutcome[],
): VolumeInspection {
  const { id, dir, meta } = look;
  const existsFailure = failureOf('exists', dir, exists!);
  if (existsFailure) return notAnswering(existsFailure);
  if (exists!.ok && exists!.value === false)
    return {
      exists: false,
      accessible: false,
      metadataIntact: false,
      code: 'ENOENT',
      message: `the directory volumes/${id} is gone from the share`,
    };
  let metadata: Pick<VolumeInspection, 'metadataIntact' | 'metadataProblem' | 'record'>;
  try {
    const read = meta.decode(metaRead!);
    metadata =
      read.state === 'ok'
        ? { metadataIntact: true, record: read.rec }
        : { metadataIntact: false, metadataProblem: read.state === 'absent' ? 'is missing' : read.problem };
  } catch (err) {
    return notAnswering(err);
  }
  const data = path.join(dir, 'data');
  if (!dataStat!.ok && dataStat!.code !== 'ENOENT') return notAnswering(failureOf('stat', data, dataStat!));
  const state = dataStat!.ok ? ((dataStat!.value as { isDirectory: boolean }).isDirectory ? 'ok' : 'notDirectory') : 'missing';
  if (state === 'ok') return { exists: true, accessible: true, ...metadata };
  const [code, what] = state === 'missing' ? ['ENOENT', 'is missing'] : ['ENOTDIR', 'is not a directory'];
  return { exists: true, accessible: false, dataMissing: true, ...metadata, code, message: `data/ of volume ${id} ${what}` };
}
