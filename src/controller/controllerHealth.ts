import type { ShareStore } from '../backend/shareStore';
import type { VolumeInspection } from '../backend/records';
import type { HealthIssue } from '../health/healthIssue';
import { inspectionIssues } from './inspectionIssues';
import { mapLimit } from './mapLimit';
import { inGroupsOf } from '../inGroupsOf';

/**
 * How many volumes one look of a listing takes in, in one round trip (three small operations
 * each) under the deadline of one look: few enough that a share slow but alive answers in time.
 */
const volumesPerLook = 8;

/** Extra issues for a volume from outside the storage (the fault-injection API). */
export type InjectedIssues = (volumeId: string) => HealthIssue[];

/**
 * The controller's view of volume health: does the volume directory still exist on the share,
 * does it answer, is its record intact, does the share have space. Every look goes through the
 * store's isolated helpers with a short deadline.
 */
export class ControllerHealth {
  /** Volumes whose last look timed out, and until when that answer stands. */
  private readonly unresponsive = new Map<string, { insp: VolumeInspection; until: number }>();

  constructor(
    private readonly store: Pick<ShareStore, 'inspectVolume' | 'inspectVolumes' | 'capacity'>,
    private readonly injected: InjectedIssues = () => [],
    private readonly timeoutMs = 3_000,
    /**
     * How long a timed-out look stands before the volume is looked at again: a listing of many
     * volumes on frozen storage would otherwise wait the full deadline for each of them, every time.
     */
    private readonly holdMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private async inspect(volumeId: string): Promise<VolumeInspection> {
    const held = this.held(volumeId);
    if (held) return held;
    return this.remember(volumeId, await this.store.inspectVolume(volumeId, this.timeoutMs));
  }

  /** The timed-out look of a volume while it stands. */
  private held(volumeId: string): VolumeInspection | undefined {
    const held = this.unresponsive.get(volumeId);
    if (held && this.now() < held.until) return held.insp;
    this.unresponsive.delete(volumeId);
    return undefined;
  }

  /** Keeps a timed-out look for the hold time. */
  private remember(volumeId: string, insp: VolumeInspection): VolumeInspection {
    if (insp.code === 'ETIMEDOUT') {
      if (this.unresponsive.size >= 4096) this.dropExpired();
      this.unresponsive.set(volumeId, { insp, until: this.now() + this.holdMs });
    }
    return insp;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, h] of this.unresponsive) if (now >= h.until) this.unresponsive.delete(id);
    // Still full: the oldest answers go first.
    while (this.unresponsive.size >= 4096) this.unresponsive.delete(this.unresponsive.keys().next().value as string);
  }

  async issuesOf(volumeId: string): Promise<HealthIssue[]> {
    const [insp, capacity] = await Promise.all([this.inspect(volumeId), this.store.capacity().catch(() => undefined)]);
    return [...this.injected(volumeId), ...inspectionIssues(volumeId, insp, capacity)];
  }

  /** Issues of many volumes, sharing one capacity look; stops when the signal aborts. */
  async issuesOfAll(volumeIds: string[], signal?: AbortSignal): Promise<Map<string, HealthIssue[]>> {
    const capacity = await this.store.capacity().catch(() => undefined);
    const looks = new Map<string, VolumeInspection>();
    const toLook: string[] = [];
    for (const id of volumeIds) {
      const held = this.held(id);
      if (held) looks.set(id, held);
      else toLook.push(id);
    }
    await mapLimit(
      inGroupsOf(toLook, volumesPerLook),
      4,
      async (group) => {
        const found = await this.store.inspectVolumes(group, this.timeoutMs);
        group.forEach((id, i) => looks.set(id, this.remember(id, found[i]!)));
      },
      signal,
    );
    return new Map(volumeIds.map((id) => [id, [...this.injected(id), ...inspectionIssues(id, looks.get(id)!, capacity)]]));
  }
}
