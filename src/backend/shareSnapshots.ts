import * as path from 'node:path';
import type { Logger } from 'pino';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import type { CommandRunner } from '../mount/runCommand';
import type { SnapshotRecord } from './records';
import { namingOwnId, ownRecordReadStep, readRecordFile, readRecordsTogether, usableRecord, writeRecordFile } from './recordFile';
import { snapshotRecordFormat } from './recordSchemas';
import { tarFailure } from './shareErrors';
import { archiveVolumeData } from './archiveVolumeData';
import { dirNames } from './dirNames';
import { inGroupsOf } from '../inGroupsOf';

/**
 * How many records one round trip of a listing reads: a batch has the one deadline of a read,
 * so a share that is slow but alive must answer a group in time.
 */
const recordsPerTrip = 32;

export interface ShareSnapshotsOptions {
  pool: FsHelperPool;
  root: () => Promise<string>;
  /** Where a volume's data is: what a snapshot archives. */
  dataDir: (volumeId: string) => Promise<string>;
  opTimeoutMs: number;
  bulkTimeoutMs: number;
  /** Runs tar (forked by the pool thread, never on the event loop). */
  run: CommandRunner;
  logger?: Logger;
}

/**
 * Snapshots as directories on the share, beside the volumes (ShareStore):
 *
 *   snapshots/<id>/snapshot.json   written last, atomically: a directory without it is unfinished
 *   snapshots/<id>/data.tar.gz     the source volume's data
 *
 * Every touch of the share runs in a killable helper process with a deadline, tar as an external
 * command with a deadline. The data is a pod's: tar reads it with no-follow opens, and a restore
 * writes only into the new volume.
 */
export class ShareSnapshots {
  constructor(private readonly o: ShareSnapshotsOptions) {}

  /** snapshot.json of a snapshot; undefined when there is none; RecordCorruptError when it is unusable. */
  async get(id: string): Promise<SnapshotRecord | undefined> {
    const file = path.join(await this.dir(id), 'snapshot.json');
    const read = namingOwnId(id, await readRecordFile(this.o.pool, file, snapshotRecordFormat, this.o.opTimeoutMs), 'record');
    return usableRecord(`snapshot ${id}`, `snapshots/${id}/snapshot.json`, read);
  }

  /**
   * Every usable snapshot, sorted by id, read a group at a time. Unfinished ones are left out, and
   * so are corrupt ones, which are logged; a failure of the storage fails the whole listing, never
   * shortens it.
   */
  async list(signal?: AbortSignal): Promise<SnapshotRecord[]> {
    const dir = path.join(await this.o.root(), 'snapshots');
    const out: SnapshotRecord[] = [];
    for (const names of inGroupsOf(await dirNames(this.o.pool, dir, this.o.opTimeoutMs), recordsPerTrip)) {
      signal?.throwIfAborted();
      const reads = names.map((name) => ownRecordReadStep(path.join(dir, name, 'snapshot.json'), snapshotRecordFormat, name, 'record'));
      const decoders = await readRecordsTogether(this.o.pool, 'snapshots (list)', reads, this.o.opTimeoutMs);
      names.forEach((name, i) => {
        const read = decoders[i]!();
        if (read.state === 'ok') out.push(read.rec);
        else if (read.state === 'corrupt')
          this.o.logger?.warn({ file: `snapshots/${name}/snapshot.json`, problem: read.problem }, 'corrupt record left out of the listing');
      });
    }
    return out;
  }

  /** Archives the source volume's data; the record is written last. Returns the record with its size. */
  async create(rec: SnapshotRecord): Promise<SnapshotRecord> {
    const { pool, opTimeoutMs } = this.o;
    const dir = await this.dir(rec.id);
    const archive = path.join(dir, 'data.tar.gz');
    // What an earlier attempt left goes, in the round trip that makes the directory afresh.
    const steps = [{ req: { op: 'rm', path: dir } as const }, { req: { op: 'mkdir', path: dir } as const }];
    await pool.run({ op: 'batch', path: `snapshots/${rec.id} (create)`, steps }, opTimeoutMs);
    try {
      await archiveVolumeData(await this.o.dataDir(rec.sourceVolumeId), archive, {
        run: this.o.run,
        timeoutMs: this.o.bulkTimeoutMs,
        logger: this.o.logger,
      });
      const st = await pool.run({ op: 'stat', path: archive }, opTimeoutMs);
      const done = { ...rec, sizeBytes: BigInt(st.size) };
      await writeRecordFile(pool, path.join(dir, 'snapshot.json'), done, opTimeoutMs);
      return done;
    } catch (err) {
      await pool.run({ op: 'rm', path: dir }, opTimeoutMs).catch(() => undefined);
      throw err;
    }
  }

  /** Removes the record first, so that a half-deleted snapshot is never listed; then its directory. */
  async delete(id: string): Promise<void> {
    const dir = await this.dir(id);
    await this.o.pool.run({ op: 'rm', path: path.join(dir, 'snapshot.json') }, this.o.opTimeoutMs);
    await this.o.pool.run({ op: 'rm', path: dir }, this.o.bulkTimeoutMs);
  }

  /**
   * Unpacks a snapshot into the new volume's (empty, private) data directory. The archive holds
   * what a pod wrote, symlinks out of the volume included: GNU tar extracts a symlink whose target
   * is absolute or climbs with `..` as a placeholder file and makes the link only once every
   * member is out, so no later member is ever written through it (without --absolute-names, also
   * no member named outside). test/conformance/treeContainment.test.ts proves it with a crafted archive.
   */
  async restoreInto(snapshotId: string, dataDir: string): Promise<void> {
    const archive = path.join(await this.dir(snapshotId), 'data.tar.gz');
    const args = ['-C', dataDir, '-xzpf', archive];
    const res = await this.o.run('tar', args, { timeoutMs: this.o.bulkTimeoutMs });
    if (res.code !== 0) throw tarFailure('restore', ['tar', ...args].join(' '), res, false);
  }

  private async dir(id: string): Promise<string> {
    return path.join(await this.o.root(), 'snapshots', id);
  }
}
