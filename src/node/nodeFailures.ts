import type { HealthIssue } from '../health/healthIssue';

/**
 * The last failed stage or publish per volume, so that NodeGetVolumeHealth can say why a
 * volume is not usable on this node (the v1.13 spec allows calls for such volumes).
 */
export class NodeFailures {
  private readonly failed = new Map<string, { step: 'stage' | 'publish'; message: string; at: string }>();

  record(volumeId: string, step: 'stage' | 'publish', err: unknown): void {
    this.failed.set(`${volumeId}/${step}`, { step, message: err instanceof Error ? err.message : String(err), at: new Date().toISOString() });
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
