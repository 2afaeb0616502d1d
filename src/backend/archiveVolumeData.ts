import type { Logger } from 'pino';
import type { CommandRunner } from '../mount/runCommand';
import { tarFailure, VolumeContentChangedError } from './shareErrors';

/** tar runs of one snapshot spoiled by a volume that changed under them before ABORTED. */
const archiveAttempts = 3;

/** How an archive is made: the command runner (tar), its deadline, where warnings go. */
export interface ArchiveOptions {
  run: CommandRunner;
  timeoutMs: number;
  logger?: Logger | undefined;
}

/**
 * tar -czf of a volume's data directory into `archive`. A pod that keeps changing its volume may
 * spoil a few runs; past that the caller gets ABORTED (retry later).
 */
export async function archiveVolumeData(dataDir: string, archive: string, opts: ArchiveOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await archiveOnce(dataDir, archive, opts);
    } catch (err) {
      if (!(err instanceof VolumeContentChangedError) || attempt >= archiveAttempts) throw err;
      opts.logger?.warn({ archive, attempt, err: err.message }, 'volume content changed under the archive; archiving again');
    }
  }
}

/**
 * GNU tar exits 1 when files changed while it read them (a volume in use, or the first health
 * probe making .csi-health): the archive is whole, each file as it was read, so that is a
 * snapshot of a live volume, not a failure. 2 and up are failures: a full share, an entry that
 * turned into a symlink between tar's look and its no-follow open (the pod changed it; retry),
 * or tar's own. A mount inside the volume is not part of it.
 */
async function archiveOnce(dataDir: string, archive: string, opts: ArchiveOptions): Promise<void> {
  const args = ['-C', dataDir, '--one-file-system', '--exclude=./.csi-health', '-czf', archive, '.'];
  const res = await opts.run('tar', args, { timeoutMs: opts.timeoutMs });
  if (res.code !== 0 && res.code !== 1) throw tarFailure('snapshot', ['tar', ...args].join(' '), res, true);
  if (res.code === 1) opts.logger?.warn({ archive, stderr: res.stderr.trim().slice(-300) }, 'files changed while being archived');
}
