import type { HealthIssue } from '../health/healthIssue';

/**
 * The last failed stage or publish per volume, so that NodeGetVolumeHealth can say why a
 * volume is not usable on this node (the v1.13 spec allows calls for such volumes).
 */
export class NodeFailures {
  private readonly failed = new Map<string, { step: 'stage' | 'publish'; message: string; at: string }>();

  /**
   * `limit` bounds the memory: a volume whose stage failed and that the CO then gave up on (or
   * ids that never existed) is never cleared, so the oldest failures make room for new ones.
   */
  constructor(private readonly limit = 1024) {}

  record(volumeId: string, step: 'stage' | 'publish', err: unknown): void {
    const key = `${volumeId}/${step}`;
    // Re-inserting moves the key to the end: the map stays in order of the last failure.
    this.failed.delete(key);
    this.failed.set(key, { step, message: err instanceof Error ? err.message : String(err), at: new Date().toISOString() });
    if (this.failed.size > this.limit) this.failed.delete(this.failed.keys().next().value as string);
  }

  clear(volumeId: string, step: 'stage' | 'publish'): void {
    this.failed.delete(`${volumeId}/${step}`);
  }

  issuesOf(volumeId: string): HealthIssue[] {
    const out: HealthIssue[] = [];
    for (const step of ['stage', 'publish'] as const) {
      const f = this.failed.get(`${volumeId}/${step}`);
      if (f) {
        out.push({
          status: 'INACCESSIBLE',
          reason: step === 'stage' ? 'StageFailed' : 'PublishFailed',
          message: `Node${step === 'stage' ? 'Stage' : 'Publish'}Volume failed at ${f.at}: ${f.message}`,
        });
      }
    }
    return out;
  }
}
