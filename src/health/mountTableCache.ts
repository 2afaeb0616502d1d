import type { MountEntry, MountTableReader } from '../mount/mountTable';
import type { Clock } from './clock';

/**
 * The mount table indexed by mount point (the top-most entry wins). Reading and parsing it
 * costs milliseconds with a thousand mounts, so one read serves every probe for up to
 * `maxAgeMs`; a new mount invalidates it.
 */
export class MountTableCache {
  private cached: { at: number; byPoint: Promise<Map<string, MountEntry>> } | undefined;
  /** The index of the last entries read: a reader that gives back the same entries (the table unchanged) gets the same index. */
  private indexed: { entries: MountEntry[]; byPoint: Map<string, MountEntry> } | undefined;

  constructor(
    private readonly read: MountTableReader,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  get(): Promise<Map<string, MountEntry>> {
    const now = this.clock.now();
    if (!this.cached || now - this.cached.at > this.maxAgeMs) {
      const byPoint = this.read().then((entries) => {
        if (this.indexed?.entries !== entries) this.indexed = { entries, byPoint: new Map(entries.map((e) => [e.mountPoint, e])) };
        return this.indexed.byPoint;
      });
      this.cached = { at: now, byPoint };
      byPoint.catch(() => (this.cached = undefined));
    }
    return this.cached.byPoint;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
