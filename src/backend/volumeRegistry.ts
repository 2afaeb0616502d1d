import * as path from 'node:path';
import { IsolatedFsError } from '../isolation/isolationErrors';
import { namingOwnId, ownRecordReadStep, readRecordFile, writeRecordFile, type RecordReadStep, type RecordRunner } from './recordFile';
import type { RecordRead, VolumeRecord } from './records';
import { recordJson, volumeRecordFormat } from './recordSchemas';
import type { BatchStep } from '../isolation/fsOps';

/** A name the driver could have given a volume (what checkIdentifier accepts); anything else is not an entry. */
function couldBeVolumeId(id: string): boolean {
  return id !== '' && id !== '.' && !id.includes('..') && !id.includes('\0') && Buffer.byteLength(id, 'utf8') <= 128;
}

/** Where the registry lives under the share root. */
export const registryDir = path.posix.join('registry', 'volumes');

const entrySuffix = '.json';

/**
 * The durable record that a volume exists: registry/volumes/<id>.json on the share root, a copy
 * of the volume's record kept apart from the volume's own directory. It is written once the
 * volume is complete (after volume.json), rewritten on expansion, and removed last by
 * DeleteVolume, so a volume whose directory or metadata is damaged out of band is still known
 * (and reported as damaged) until it is deleted, across controller restarts.
 */
export class VolumeRegistry {
  constructor(
    private readonly rootPath: () => Promise<string>,
    private readonly pool: RecordRunner,
    private readonly opTimeoutMs = 10_000,
  ) {}

  async ensureLayout(): Promise<void> {
    await this.pool.run({ op: 'mkdir', path: await this.dir() }, this.opTimeoutMs);
  }

  /** Records (or updates) a complete volume. */
  async put(rec: VolumeRecord): Promise<void> {
    await writeRecordFile(this.pool, await this.file(rec.id), rec, this.opTimeoutMs);
  }

  /** The write of a volume's entry as a step of a batch (run after the volume's own record). */
  async putStep(rec: VolumeRecord): Promise<BatchStep> {
    return { req: { op: 'writeFileAtomic', path: await this.file(rec.id), data: recordJson(rec) } };
  }

  /** The removal of a volume's entry as a step of a batch (run last by DeleteVolume). */
  async removeStep(id: string): Promise<BatchStep> {
    return { req: { op: 'rm', path: await this.file(id) } };
  }

  /** The entry of a volume as read: ok, absent, or corrupt (it must name this volume). */
  async read(id: string): Promise<RecordRead<VolumeRecord>> {
    return namingOwnId(id, await readRecordFile(this.pool, await this.file(id), volumeRecordFormat, this.opTimeoutMs));
  }

  /** The read of a volume's entry as a step of a batch (see readRecordsTogether). */
  async readStep(id: string): Promise<RecordReadStep<VolumeRecord>> {
    return ownRecordReadStep(await this.file(id), volumeRecordFormat, id);
  }

  /** Ids of every registered volume, sorted. Temp files of unfinished writes are not entries. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await this.pool.run({ op: 'readdir', path: await this.dir() }, this.opTimeoutMs);
    } catch (err) {
      // A share from before the registry existed: nothing registered yet.
      if (err instanceof IsolatedFsError && err.code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith(entrySuffix))
      .map((n) => n.slice(0, -entrySuffix.length))
      .filter(couldBeVolumeId)
      .sort();
  }

  /** The entry's file relative to the share root, for messages. */
  static entryPath(id: string): string {
    return path.posix.join(registryDir, `${id}${entrySuffix}`);
  }

  private async dir(): Promise<string> {
    return path.join(await this.rootPath(), registryDir);
  }

  private async file(id: string): Promise<string> {
    return path.join(await this.dir(), `${id}${entrySuffix}`);
  }
}
