import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { MountRegistration } from '../health/mountRegistration';
import type { MountIdentity } from '../isolation/pinnedTypes';

/**
 * A mount the node made (or is making). `identity` is what mountinfo showed right after the
 * mount: only a mount with that identity at the path is taken for this record. `pending` marks
 * a record written before the mount command ran, so that a mount made just before a crash is
 * still known as the driver's on the retry.
 */
export type NodeMountRecord = MountRegistration & { identity?: MountIdentity; pending?: boolean };

/**
 * The node's own record of the mounts it made, in --state-dir (a local disk, never the share).
 * The mount table decides what is still true: at start, records whose path is no longer a
 * mount point are dropped.
 */
export class NodeStateStore {
  private readonly file: string;
  private mounts = new Map<string, NodeMountRecord>();
  private writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'node-mounts.json');
  }

  async load(): Promise<NodeMountRecord[]> {
    try {
      const list = JSON.parse(await readFile(this.file, 'utf8')) as NodeMountRecord[];
      this.mounts = new Map(list.map((m) => [m.path, m]));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${this.file}: ${(err as Error).message}`);
    }
    return [...this.mounts.values()];
  }

  get(p: string): NodeMountRecord | undefined {
    return this.mounts.get(p);
  }

  all(): NodeMountRecord[] {
    return [...this.mounts.values()];
  }

  byVolume(volumeId: string): NodeMountRecord[] {
    return this.all().filter((m) => m.volumeId === volumeId);
  }

  async put(m: NodeMountRecord): Promise<void> {
    this.mounts.set(m.path, m);
    await this.save();
  }

  async remove(p: string): Promise<void> {
    if (this.mounts.delete(p)) await this.save();
  }

  /** Keeps only the records whose path is in `mounted`. */
  async retain(mounted: (p: string) => boolean): Promise<NodeMountRecord[]> {
    for (const p of [...this.mounts.keys()]) if (!mounted(p)) this.mounts.delete(p);
    await this.save();
    return this.all();
  }

  /** Writes are serialised and atomic (temp file, rename). */
  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.all(), null, 2);
    this.writing = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, snapshot);
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}
