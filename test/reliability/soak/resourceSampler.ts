import { fetchMetrics, metricValue } from './healthEndpoints';
import type { Point } from './flatness';
import { isFileHelper, sampleProcess, type ProcessSample } from './processSampler';

/** The series a soak run judges, each point at ms since the run started. */
export interface ResourceSeries {
  rssKb: Point[];
  /**
   * RSS less the main isolate's committed heap (nodejs_heap_size_total_bytes of the same
   * sample): what the JavaScript heap's own sizing does not explain. A busy machine makes V8
   * grow its young generation to tens of MB and keep it; that is not a leak.
   */
  outsideHeapKb: Point[];
  fds: Point[];
  helpers: Point[];
  /** The largest RSS of any single file helper (a helper that leaks grows while it stays in the pool). */
  helperMaxRssKb: Point[];
  stuck: Point[];
  /** Operations counted so far, to relate growth to work done. */
  ops: Point[];
  mountOps: Point[];
  first: ProcessSample | undefined;
  last: ProcessSample | undefined;
  /** Most file helpers seen at once. */
  peakHelpers: number;
}

/**
 * Samples the driver's RSS, open descriptors and helpers every `everyMs`, and the stuck-helper
 * gauge of /metrics (scraping it is part of the load, as Prometheus would). A sample that finds
 * the driver gone records why; the run then fails.
 */
export class ResourceSampler {
  readonly series: ResourceSeries = {
    rssKb: [],
    outsideHeapKb: [],
    fds: [],
    helpers: [],
    helperMaxRssKb: [],
    stuck: [],
    ops: [],
    mountOps: [],
    first: undefined,
    last: undefined,
    peakHelpers: 0,
  };
  readonly errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly pid: number,
    private readonly healthPort: number,
    private readonly counts: () => { ops: number; mountOps: number },
  ) {}

  start(everyMs: number): void {
    const tick = (): void => {
      this.running = this.sample().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, everyMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async sample(): Promise<void> {
    let s: ProcessSample;
    try {
      s = sampleProcess(this.pid);
    } catch (err) {
      this.errors.push(`driver process ${this.pid} could not be sampled: ${(err as Error).message}`);
      return;
    }
    const t = s.atMs - this.t0;
    const helpers = s.children.filter(isFileHelper);
    const s2 = this.series;
    s2.first ??= s;
    s2.last = s;
    s2.rssKb.push({ t, v: s.rssKb });
    s2.fds.push({ t, v: s.fds });
    s2.helpers.push({ t, v: helpers.length });
    s2.helperMaxRssKb.push({ t, v: Math.max(0, ...helpers.map((h) => h.rssKb)) });
    s2.peakHelpers = Math.max(s2.peakHelpers, helpers.length);
    const c = this.counts();
    s2.ops.push({ t, v: c.ops });
    s2.mountOps.push({ t, v: c.mountOps });
    try {
      const text = await fetchMetrics(this.healthPort);
      const stuck = metricValue(text, 'csi_driver_probes_stuck');
      if (stuck !== undefined) s2.stuck.push({ t, v: stuck });
      const heapTotal = metricValue(text, 'nodejs_heap_size_total_bytes');
      if (heapTotal !== undefined) s2.outsideHeapKb.push({ t, v: s.rssKb - heapTotal / 1024 });
    } catch (err) {
      this.errors.push(`/metrics did not answer: ${(err as Error).message}`);
    }
  }
}
