import * as path from 'node:path';
import type { Logger } from 'pino';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import type { RecordRead, ShareCapacity, VolumeInspection, VolumeRecord } from './records';
import {
  namingOwnId,
  ownRecordReadStep,
  readRecordFile,
  readRecordsThen,
  usableRecord,
  writeRecordFile,
  type BatchRead,
  type RecordReadStep,
} from './recordFile';
import { recordJson, volumeRecordFormat } from './recordSchemas';
import type { BatchStep, TreeRemoveRequest } from '../isolation/fsOps';
import { capacityOf, capacityRead } from './shareCapacity';
import { newEmptyVolumeSteps, type NewVolumeSteps } from './newVolumeSteps';
import type { CommandRunner } from '../mount/runCommand';
import { inspectVolumeDir, inspectVolumeDirs } from './inspectVolumeDir';
import { dirNames } from './dirNames';
import { ShareSnapshots } from './shareSnapshots';

export interface ShareStoreOptions {
  pool: FsHelperPool;
  /** Deadline of one metadata operation on the share. */
  opTimeoutMs?: number;
  /** Deadline of a tree copy, archive or restore. */
  bulkTimeoutMs?: number;
  run?: CommandRunner;
  logger?: Logger;
}

/**
 * Volumes and snapshots as directories on a share (a local directory, or the controller's
 * private mount of an NFS export); the snapshots' side is `snapshots` (ShareSnapshots):
 *
 *   volumes/<id>/volume.json     written last, atomically: a directory without it is unfinished
 *   volumes/<id>/data/           what nodes mount
 *   snapshots/<id>/snapshot.json
 *   snapshots/<id>/data.tar.gz
 *
 * Every touch of the share runs in a killable helper process with a deadline; tar is an external
 * command with a deadline. A volume's data is written by pods, which may turn any directory in it
 * into a symlink at any moment: clone and removal walk it through pinned directory handles
 * (isolation/pinnedTree.ts), tar reads it with no-follow opens, and restore writes only into the
 * new volume (GNU tar extracts a symlink that could lead out as a placeholder until the end).
 */
export class ShareStore {
  private readonly pool: FsHelperPool;
  private readonly opTimeoutMs: number;
  private readonly bulkTimeoutMs: number;
  private readonly run: CommandRunner;
  private readonly logger: Logger | undefined;
  readonly snapshots: ShareSnapshots;

  constructor(
    private readonly rootPath: () => Promise<string>,
    opts: ShareStoreOptions,
  ) {
    this.pool = opts.pool;
    this.opTimeoutMs = opts.opTimeoutMs ?? 10_000;
    this.bulkTimeoutMs = opts.bulkTimeoutMs ?? 600_000;
    // Commands (tar) are forked by the pool thread, never on the event loop.
    this.run = opts.run ?? ((cmd, args, o) => this.pool.command(cmd, args, o));
    this.logger = opts.logger;
    this.snapshots = new ShareSnapshots({
      pool: this.pool,
      root: () => this.root(),
      dataDir: (id) => this.dataDir(id),
      opTimeoutMs: this.opTimeoutMs,
      bulkTimeoutMs: this.bulkTimeoutMs,
      run: this.run,
      logger: this.logger,
    });
  }

  /** volumes/<id>/data relative to the share root: what a node mounts. */
  static volumeDataDir(id: string): string {
    return path.posix.join('volumes', id, 'data');
  }

  async root(): Promise<string> {
    return this.rootPath();
  }

  async ensureLayout(): Promise<void> {
    const root = await this.root();
    await this.pool.run({ op: 'mkdir', path: path.join(root, 'volumes') }, this.opTimeoutMs);
    await this.pool.run({ op: 'mkdir', path: path.join(root, 'snapshots') }, this.opTimeoutMs);
  }

  async volumeDir(id: string): Promise<string> {
    return path.join(await this.root(), 'volumes', id);
  }

  async dataDir(id: string): Promise<string> {
    return path.join(await this.volumeDir(id), 'data');
  }

  /** volume.json of a volume; undefined when there is none; RecordCorruptError when it is unusable. */
  async getVolume(id: string): Promise<VolumeRecord | undefined> {
    return usableRecord(`volume ${id}`, `volumes/${id}/volume.json`, await this.readVolume(id));
  }

  /** volume.json of a volume as read: ok, absent, or corrupt (schema-checked, and it must name this volume). */
  async readVolume(id: string, timeoutMs = this.opTimeoutMs): Promise<RecordRead<VolumeRecord>> {
    return namingOwnId(
      id,
      await readRecordFile(this.pool, path.join(await this.volumeDir(id), 'volume.json'), volumeRecordFormat, timeoutMs),
    );
  }

  /** The read of volume.json as a step of a batch (see readRecordsThen). */
  async readVolumeStep(id: string): Promise<RecordReadStep<VolumeRecord>> {
    return ownRecordReadStep(path.join(await this.volumeDir(id), 'volume.json'), volumeRecordFormat, id);
  }

  /**
   * Several reads in one round trip, each given back as a function that decodes it (or throws its
   * failure); then the `then` steps, as far as their conditions hold (see readRecordsThen).
   */
  readRecordsThen<R>(what: string, reads: BatchRead<R>[], then: BatchStep[]): Promise<{ reads: Array<() => R>; thenRan: boolean }> {
    return readRecordsThen(this.pool, what, reads, then, this.opTimeoutMs);
  }

  /**
   * How an empty volume is made in the round trip that finds it new (VolumeCatalog.entryAlong):
   * a look at its directory, which must not exist (so there is nothing left of an earlier attempt
   * to clear, and the steps are few and small), then its data directory, its record and the
   * `then` steps (the registry entry).
   */
  async newEmptyVolume(rec: VolumeRecord, then: BatchStep[]): Promise<NewVolumeSteps> {
    return newEmptyVolumeSteps(await this.volumeDir(rec.id), rec, then);
  }

  /** Removes what a failed create left of a volume (see createVolume). */
  async discardUnfinished(id: string): Promise<void> {
    await this.removeVolumeTree(id, this.bulkTimeoutMs);
  }

  /** Names of the directories under volumes/, sorted; finished or not. */
  async volumeDirIds(): Promise<string[]> {
    return dirNames(this.pool, path.join(await this.root(), 'volumes'), this.opTimeoutMs);
  }

  /**
   * Makes the volume: its data directory, filled from `fill` when given, then the record, then
   * the `then` steps (the registry entry). Leftovers of an unfinished earlier attempt are
   * removed first; a failure after that removes what was made.
   */
  async createVolume(rec: VolumeRecord, fill?: (dataDir: string) => Promise<void>, then: BatchStep[] = []): Promise<void> {
    const root = await this.root();
    const dir = path.join(root, 'volumes', rec.id);
    const make: BatchStep[] = [
      { req: this.treeRemoveOf(root, rec.id) },
      { req: { op: 'mkdir', path: path.join(dir, 'data'), mode: 0o777 } },
    ];
    const finish: BatchStep[] = [{ req: { op: 'writeFileAtomic', path: path.join(dir, 'volume.json'), data: recordJson(rec) } }, ...then];
    // An empty volume is made in one round trip to a helper; a filled one around its fill.
    if (!fill) return this.createInOne(rec.id, [...make, ...finish]);
    await this.batch(`volumes/${rec.id} (create)`, make, this.bulkTimeoutMs);
    await this.createInOne(rec.id, finish, () => fill(path.join(dir, 'data')));
  }

  private async createInOne(id: string, steps: BatchStep[], first?: () => Promise<void>): Promise<void> {
    try {
      if (first) await first();
      await this.batch(`volumes/${id} (create)`, steps, this.bulkTimeoutMs);
    } catch (err) {
      await this.discardUnfinished(id).catch(() => undefined);
      throw err;
    }
  }

  async updateVolume(rec: VolumeRecord): Promise<void> {
    await this.writeJson(path.join(await this.volumeDir(rec.id), 'volume.json'), rec);
  }

  /**
   * Removes the record first, so that a half-deleted volume is never listed; then the tree,
   * without ever acting outside it (a mount inside it fails the removal with EBUSY); then the
   * `then` steps (the registry entry), all in one round trip to a helper.
   */
  async deleteVolume(id: string, then: BatchStep[] = []): Promise<void> {
    const root = await this.root();
    const steps: BatchStep[] = [
      { req: { op: 'rm', path: path.join(root, 'volumes', id, 'volume.json') } },
      { req: this.treeRemoveOf(root, id) },
      ...then,
    ];
    await this.batch(`volumes/${id} (delete)`, steps, this.bulkTimeoutMs);
  }

  /** volumes/<id> and everything in it, walked through pinned handles (the content is a pod's). */
  private async removeVolumeTree(id: string, timeoutMs: number): Promise<void> {
    await this.pool.run(this.treeRemoveOf(await this.root(), id), timeoutMs);
  }

  private treeRemoveOf(root: string, id: string): TreeRemoveRequest {
    return { op: 'treeRemove', path: path.join(root, 'volumes', id), root, rel: ['volumes', id] };
  }

  /** Steps run in order by one helper (one round trip); the first failing step's error is thrown. */
  private async batch(what: string, steps: BatchStep[], timeoutMs: number): Promise<void> {
    await this.pool.run({ op: 'batch', path: what, steps }, timeoutMs);
  }

  /**
   * Copies a volume's data into the new volume's (empty) data directory through pinned handles:
   * symlinks as symlinks, never followed; devices, fifos, sockets and mounts inside left out.
   */
  async cloneVolumeInto(sourceId: string, dataDir: string): Promise<void> {
    const root = await this.root();
    const to = path.relative(root, dataDir).split(path.sep);
    if (to.includes('..') || path.isAbsolute(path.relative(root, dataDir))) throw new Error(`clone target ${dataDir} is outside the share`);
    const from = ['volumes', sourceId, 'data'];
    const res = await this.pool.run(
      { op: 'treeCopy', path: path.join(root, ...from), root, from, to, exclude: ['.csi-health'] },
      this.bulkTimeoutMs,
    );
    if (res.skipped > 0) this.logger?.info({ sourceId, skipped: res.skipped }, 'special files and mount points were left out of the clone');
  }

  async capacity(): Promise<ShareCapacity> {
    return capacityOf(await this.pool.run({ op: 'statfs', path: await this.root() }, this.opTimeoutMs));
  }

  /** capacity() as a read of a batch (see readRecordsThen): the storage's failure is thrown when it is decoded. */
  async capacityStep(): Promise<BatchRead<ShareCapacity>> {
    return capacityRead(await this.root());
  }

  /** Is the volume still there, reachable, and its record intact? See inspectVolumeDir. */
  async inspectVolume(id: string, timeoutMs = this.opTimeoutMs): Promise<VolumeInspection> {
    return inspectVolumeDir(this.pool, this, id, timeoutMs);
  }

  /** inspectVolume of each volume, all in one round trip under the one deadline (see inspectVolumeDirs). */
  async inspectVolumes(ids: string[], timeoutMs = this.opTimeoutMs): Promise<VolumeInspection[]> {
    return inspectVolumeDirs(this.pool, this, ids, timeoutMs);
  }

  private async writeJson(file: string, value: object): Promise<void> {
    await writeRecordFile(this.pool, file, value, this.opTimeoutMs);
  }
}
