import * as path from 'node:path';
import type { Logger } from 'pino';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolatedFsError } from '../isolation/isolationErrors';
import type { SnapshotRecord, ShareCapacity, VolumeInspection, VolumeRecord } from './records';
import type { CommandRunner } from '../mount/runCommand';
import { tarFailure, VolumeContentChangedError } from './shareErrors';

export interface ShareStoreOptions {
  pool: FsHelperPool;
  /** Deadline of one metadata operation on the share. */
  opTimeoutMs?: number;
  /** Deadline of a tree copy, archive or restore. */
  bulkTimeoutMs?: number;
  run?: CommandRunner;
  logger?: Logger;
}

const maxMetaBytes = 1024 * 1024;
/** tar runs of one snapshot spoiled by a volume that changed under them before ABORTED. */
const archiveAttempts = 3;

/**
 * Volumes and snapshots as directories on a share (a local directory, or the controller's
 * private mount of an NFS export):
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

  async getVolume(id: string): Promise<VolumeRecord | undefined> {
    return this.readJson<VolumeRecord>(path.join(await this.volumeDir(id), 'volume.json'));
  }

  async listVolumes(): Promise<VolumeRecord[]> {
    return this.listRecords<VolumeRecord>('volumes', 'volume.json');
  }

  /**
   * Makes the volume: its data directory, filled from `fill` when given, then the record.
   * Leftovers of an unfinished earlier attempt are removed first.
   */
  async createVolume(rec: VolumeRecord, fill?: (dataDir: string) => Promise<void>): Promise<void> {
    const dir = await this.volumeDir(rec.id);
    await this.removeVolumeTree(rec.id, this.bulkTimeoutMs);
    await this.pool.run({ op: 'mkdir', path: path.join(dir, 'data'), mode: 0o777 }, this.opTimeoutMs);
    try {
      if (fill) await fill(path.join(dir, 'data'));
      await this.writeJson(path.join(dir, 'volume.json'), rec);
    } catch (err) {
      await this.removeVolumeTree(rec.id, this.bulkTimeoutMs).catch(() => undefined);
      throw err;
    }
  }

  async updateVolume(rec: VolumeRecord): Promise<void> {
    await this.writeJson(path.join(await this.volumeDir(rec.id), 'volume.json'), rec);
  }

  /**
   * Removes the record first, so that a half-deleted volume is never listed; then the tree,
   * without ever acting outside it (a mount inside it fails the removal with EBUSY).
   */
  async deleteVolume(id: string): Promise<void> {
    const dir = await this.volumeDir(id);
    await this.pool.run({ op: 'rm', path: path.join(dir, 'volume.json') }, this.opTimeoutMs);
    await this.removeVolumeTree(id, this.bulkTimeoutMs);
  }

  /** volumes/<id> and everything in it, walked through pinned handles (the content is a pod's). */
  private async removeVolumeTree(id: string, timeoutMs: number): Promise<void> {
    const root = await this.root();
    await this.pool.run({ op: 'treeRemove', path: path.join(root, 'volumes', id), root, rel: ['volumes', id] }, timeoutMs);
  }

  async getSnapshot(id: string): Promise<SnapshotRecord | undefined> {
    return this.readJson<SnapshotRecord>(path.join(await this.snapshotDir(id), 'snapshot.json'));
  }

  async listSnapshots(): Promise<SnapshotRecord[]> {
    return this.listRecords<SnapshotRecord>('snapshots', 'snapshot.json');
  }

  /** Archives the source volume's data; the record is written last. Returns the record with its size. */
  async createSnapshot(rec: SnapshotRecord): Promise<SnapshotRecord> {
    const dir = await this.snapshotDir(rec.id);
    const archive = path.join(dir, 'data.tar.gz');
    await this.pool.run({ op: 'rm', path: dir }, this.opTimeoutMs);
    await this.pool.run({ op: 'mkdir', path: dir }, this.opTimeoutMs);
    try {
      await this.archiveRetrying(await this.dataDir(rec.sourceVolumeId), archive);
      const st = await this.pool.run({ op: 'stat', path: archive }, this.opTimeoutMs);
      const done = { ...rec, sizeBytes: st.size };
      await this.writeJson(path.join(dir, 'snapshot.json'), done);
      return done;
    } catch (err) {
      await this.pool.run({ op: 'rm', path: dir }, this.opTimeoutMs).catch(() => undefined);
      throw err;
    }
  }

  /** A pod that keeps changing its volume may spoil a few runs; past that the caller gets ABORTED (retry later). */
  private async archiveRetrying(dataDir: string, archive: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.archive(dataDir, archive);
      } catch (err) {
        if (!(err instanceof VolumeContentChangedError) || attempt >= archiveAttempts) throw err;
        this.logger?.warn({ archive, attempt, err: err.message }, 'volume content changed under the archive; archiving again');
      }
    }
  }

  /**
   * tar -czf of a data directory. GNU tar exits 1 when files changed while it read them (a volume
   * in use, or the first health probe making .csi-health): the archive is whole, each file as it
   * was read, so that is a snapshot of a live volume, not a failure. 2 and up are failures: a full
   * share, an entry that turned into a symlink between tar's look and its no-follow open (the
   * pod changed it; retry), or tar's own. A mount inside the volume is not part of it.
   */
  private async archive(dataDir: string, archive: string): Promise<void> {
    const args = ['-C', dataDir, '--one-file-system', '--exclude=./.csi-health', '-czf', archive, '.'];
    const res = await this.run('tar', args, { timeoutMs: this.bulkTimeoutMs });
    if (res.code !== 0 && res.code !== 1) throw tarFailure('snapshot', ['tar', ...args].join(' '), res, true);
    if (res.code === 1) this.logger?.warn({ archive, stderr: res.stderr.trim().slice(-300) }, 'files changed while being archived');
  }

  async deleteSnapshot(id: string): Promise<void> {
    const dir = await this.snapshotDir(id);
    await this.pool.run({ op: 'rm', path: path.join(dir, 'snapshot.json') }, this.opTimeoutMs);
    await this.pool.run({ op: 'rm', path: dir }, this.bulkTimeoutMs);
  }

  /**
   * Unpacks a snapshot into the new volume's (empty, private) data directory. The archive holds
   * what a pod wrote, symlinks out of the volume included: GNU tar extracts a symlink whose target
   * is absolute or climbs with `..` as a placeholder file and makes the link only once every
   * member is out, so no later member is ever written through it (without --absolute-names, also
   * no member named outside). test/conformance/treeContainment.test.ts proves it with a crafted archive.
   */
  async restoreSnapshotInto(snapshotId: string, dataDir: string): Promise<void> {
    const archive = path.join(await this.snapshotDir(snapshotId), 'data.tar.gz');
    const args = ['-C', dataDir, '-xzpf', archive];
    const res = await this.run('tar', args, { timeoutMs: this.bulkTimeoutMs });
    if (res.code !== 0) throw tarFailure('restore', ['tar', ...args].join(' '), res, false);
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
    const res = await this.pool.run({ op: 'treeCopy', path: path.join(root, ...from), root, from, to, exclude: ['.csi-health'] }, this.bulkTimeoutMs);
    if (res.skipped > 0) this.logger?.info({ sourceId, skipped: res.skipped }, 'special files and mount points were left out of the clone');
  }

  async capacity(): Promise<ShareCapacity> {
    const s = await this.pool.run({ op: 'statfs', path: await this.root() }, this.opTimeoutMs);
    return { totalBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  }

  /** Is the volume still there, reachable, and its record intact? Never throws. */
  async inspectVolume(id: string, timeoutMs = this.opTimeoutMs): Promise<VolumeInspection> {
    try {
      const dir = await this.volumeDir(id);
      const exists = await this.pool.run({ op: 'exists', path: dir }, timeoutMs);
      if (!exists) return { exists: false, accessible: false, metadataIntact: false, code: 'ENOENT', message: `volume directory ${dir} is missing` };
      let metadataIntact = false;
      let metaMessage: string | undefined;
      try {
        const rec = await this.readJson<VolumeRecord>(path.join(dir, 'volume.json'), timeoutMs);
        metadataIntact = rec?.id === id;
        if (!metadataIntact) metaMessage = rec ? 'volume.json names another volume' : 'volume.json is missing';
      } catch (err) {
        metaMessage = `volume.json is unreadable: ${(err as Error).message}`;
      }
      const st = await this.pool.run({ op: 'stat', path: path.join(dir, 'data') }, timeoutMs);
      if (!st.isDirectory) return { exists: true, accessible: false, metadataIntact, code: 'ENOTDIR', message: 'data is not a directory' };
      return { exists: true, accessible: true, metadataIntact, ...(metaMessage ? { message: metaMessage } : {}) };
    } catch (err) {
      const code = err instanceof IsolatedFsError ? err.code : (err as Error).name === 'IsolationTimeoutError' ? 'ETIMEDOUT' : 'EUNKNOWN';
      if (code === 'ENOENT') return { exists: false, accessible: false, metadataIntact: false, code, message: `volume data directory is missing` };
      return { exists: true, accessible: false, metadataIntact: false, code, message: (err as Error).message };
    }
  }

  private async snapshotDir(id: string): Promise<string> {
    return path.join(await this.root(), 'snapshots', id);
  }

  private async readJson<T>(file: string, timeoutMs = this.opTimeoutMs): Promise<T | undefined> {
    let text: string;
    try {
      text = await this.pool.run({ op: 'readFile', path: file, maxBytes: maxMetaBytes }, timeoutMs);
    } catch (err) {
      if (err instanceof IsolatedFsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
      throw err;
    }
    return JSON.parse(text) as T;
  }

  private async writeJson(file: string, value: unknown): Promise<void> {
    await this.pool.run({ op: 'writeFileAtomic', path: file, data: `${JSON.stringify(value, null, 2)}\n` }, this.opTimeoutMs);
  }

  private async listRecords<T extends { id: string }>(kind: 'volumes' | 'snapshots', file: string): Promise<T[]> {
    const dir = path.join(await this.root(), kind);
    let names: string[];
    try {
      names = await this.pool.run({ op: 'readdir', path: dir }, this.opTimeoutMs);
    } catch (err) {
      if (err instanceof IsolatedFsError && err.code === 'ENOENT') return [];
      throw err;
    }
    names.sort();
    const out: T[] = [];
    for (const name of names) {
      try {
        const rec = await this.readJson<T>(path.join(dir, name, file));
        if (rec && rec.id === name) out.push(rec);
      } catch {
        // An unreadable record is left out of the listing; health reporting names it.
      }
    }
    return out;
  }
}
