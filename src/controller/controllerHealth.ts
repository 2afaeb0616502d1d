import type { ShareStore } from '../backend/shareStore';
import type { HealthIssue } from '../health/healthIssue';
import { inspectionIssues } from './inspectionIssues';

/** Extra issues for a volume from outside the storage (the fault-injection API). */
export type InjectedIssues = (volumeId: string) => HealthIssue[];

/**
 * The controller's view of volume health: does the volume directory still exist on the share,
 * does it answer, is its record intact, does the share have space. Every look goes through the
 * store's isolated helpers with a short deadline.
 */
export class ControllerHealth {
  constructor(
    private readonly store: ShareStore,
    private readonly injected: InjectedIssues = () => [],
    private readonly timeoutMs = 3_000,
  ) {}

  async issuesOf(volumeId: string): Promise<HealthIssue[]> {
    const [insp, capacity] = await Promise.all([
      this.store.inspectVolume(volumeId, this.timeoutMs),
      this.store.capacity().catch(() => undefined),
    ]);
    return [...this.injected(volumeId), ...inspectionIssues(volumeId, insp, capacity)];
  }

  /** Issues of many volumes, sharing one capacity look. */
  async issuesOfAll(volumeIds: string[]): Promise<Map<string, HealthIssue[]>> {
    const capacity = await this.store.capacity().catch(() => undefined);
    const out = new Map<string, HealthIssue[]>();
    const queue = [...volumeIds];
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const insp = await this.store.inspectVolume(id, this.timeoutMs);
        out.set(id, [...this.injected(id), ...inspectionIssues(id, insp, capacity)]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
    return out;
  }
}
