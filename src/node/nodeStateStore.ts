import * as path from 'node:path';
import type { NodeMountRecord } from './nodeMountRecord';

export type { NodeMountRecord } from './nodeMountRecord';
import { NodeStateCorruptError, NodeStateWriteError } from './nodeStateErrors';
import { parseNodeState } from './nodeStateSchema';
import { durableStateFileIo, type StateFileIo } from './stateFileIo';

/** What load() found: the records, and the problem when the file was there but unreadable or corrupt. */
export interface NodeStateLoad {
  records: NodeMountRecord[];
  corrupt?: NodeStateCorruptError;
  /** Where the corrupt file was moved to, when it could be moved. */
  setAsideAs?: string;
}

/** A record as callers see it: a copy, so that no caller can change the store's own. */
function copyOf(m: NodeMountRecord): NodeMountRecord {
  const c: NodeMountRecord = { ...m };
  if (m.identity) c.identity = { ...m.identity };
  if (m.source) c.source = m.source.kind === 'bind' ? { ...m.source } : { ...m.source, options: [...m.source.options] };
  return c;
}

/**
 * The node's own record of the mounts it made, in --state-dir (a local disk, never the share).
 * The mount table decides what is still true: at start, records whose path is no longer a
 * mount point are dropped. Getters hand out copies.
 */
export class NodeStateStore {
  readonly file: string;
  private mounts = new Map<string, NodeMountRecord>();
  /** The chain that serialises writes; it never holds a rejection, so one failed write does not fail the next. */
  private writing: Promise<void> = Promise.resolve();
  /** The write queued behind the one in flight, which every change made meanwhile joins. */
  private queued: Promise<void> | undefined;

  constructor(
    stateDir: string,
    private readonly io: StateFileIo = durableStateFileIo,
  ) {
    this.file = path.join(stateDir, 'node-mounts.json');
  }

  /**
   * Reads the file. A missing file is an empty list. A file that is not valid JSON or fails the
   * schema is reported in `corrupt` (and moved aside), and the store starts empty: the caller
   * rebuilds it from the mount table. Only an error reading the file itself is thrown.
   */
  async load(): Promise<NodeStateLoad> {
    const text = await this.io.read(this.file);
    if (text === undefined) return { records: this.replaceAll([]) };
    const parsed = parseNodeState(text);
    if (parsed.ok) return { records: this.replaceAll(parsed.records) };
    const corrupt = new NodeStateCorruptError(this.file, parsed.detail);
    const setAsideAs = await this.io.setAside(this.file).catch(() => undefined);
    return { records: this.replaceAll([]), corrupt, ...(setAsideAs ? { setAsideAs } : {}) };
  }

  get(p: string): NodeMountRecord | undefined {
    const m = this.mounts.get(p);
    return m ? copyOf(m) : undefined;
  }

  all(): NodeMountRecord[] {
    return [...this.mounts.values()].map(copyOf);
  }

  byVolume(volumeId: string): NodeMountRecord[] {
    return this.all().filter((m) => m.volumeId === volumeId);
  }

  async put(m: NodeMountRecord): Promise<void> {
    this.mounts.set(m.path, copyOf(m));
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

  /** Replaces every record (after a rebuild from the mount table) and writes the file. */
  async reset(records: NodeMountRecord[]): Promise<void> {
    this.replaceAll(records);
    await this.save();
  }

  private replaceAll(records: NodeMountRecord[]): NodeMountRecord[] {
    this.mounts = new Map(records.map((m) => [m.path, copyOf(m)]));
    return this.all();
  }

  /**
   * Writes are serialised, atomic and durable. Each write carries the whole list as it is when
   * it starts, so a later write repairs the file after an earlier one failed. Changes made while
   * a write is in flight share the one write queued behind it: a teardown of hundreds of mounts
   * writes the file a few times, not once per mount with a list that grows each time.
   */
  private save(): Promise<void> {
    if (!this.queued) {
      const next = this.writing.then(() => {
        this.queued = undefined;
        return this.io.write(this.file, JSON.stringify([...this.mounts.values()]));
      });
      this.queued = next;
      this.writing = next.catch(() => undefined);
    }
    return this.queued.catch((err: unknown) => {
      throw new NodeStateWriteError(this.file, err);
    });
  }
}
