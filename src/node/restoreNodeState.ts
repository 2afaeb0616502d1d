import type { Logger } from 'pino';
import type { MountRegistration } from '../health/mountRegistration';
import { findMount, type MountEntry } from '../mount/mountTable';
import type { NodeStateCorruptError } from './nodeStateErrors';
import type { NodeStateStore } from './nodeStateStore';
import { rebuildNodeState, type RebuildDeps } from './rebuildNodeState';

/** What start-up found in the state file. */
export interface RestoredNodeState {
  /** The mounts to watch again: records of mounts that are still in the mount table. */
  records: MountRegistration[];
  /** Set when the file was corrupt and the records were rebuilt from the mount table. */
  corrupt?: NodeStateCorruptError;
}

/**
 * Loads the state file at start and squares it with the mount table, the truth: records of
 * mounts that are gone are dropped. A corrupt file is reported (logged as an error, returned)
 * and the records are rebuilt from the mount table instead of failing start-up.
 */
export async function restoreNodeState(
  state: NodeStateStore,
  table: MountEntry[],
  rebuild: RebuildDeps,
  logger: Logger,
): Promise<RestoredNodeState> {
  const loaded = await state.load();
  if (loaded.corrupt) {
    const rebuilt = rebuildNodeState(table, rebuild);
    logger.error(
      { file: state.file, reason: loaded.corrupt.detail, keptAs: loaded.setAsideAs, rebuiltMounts: rebuilt.length },
      'node state file is corrupt; mount records rebuilt from the mount table',
    );
    await state.reset(rebuilt);
  }
  const records = await state.retain((p) => findMount(table, p) !== undefined);
  return { records, ...(loaded.corrupt ? { corrupt: loaded.corrupt } : {}) };
}
