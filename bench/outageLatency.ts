import { status as grpcStatus } from '@grpc/grpc-js';
import type { DriverProcess } from '../test/helpers/driverProcess';
import type { PublishedVolume } from '../test/helpers/publish';

/** Latency samples (ms) of the calls made during an outage, and how many failed. */
export interface OutageLatency {
  probeMs: number[];
  statsHealthyMs: number[];
  statsHungMs: number[];
  liveMs: number[];
  errors: Record<string, number>;
  /** NodeGetVolumeStats of a hung volume that answered abnormal=false after the volume was seen abnormal. */
  hungReportedHealthy: number;
}

/** What the latency loop asks about a hung volume. */
export interface HungPick {
  volume: PublishedVolume;
  /** Whether the monitor was already seen to report this volume abnormal. */
  detected: boolean;
  /** Whether its unpublish has started by now (NOT_FOUND may then be the right answer). */
  goingDown(): boolean;
}

const callDeadlineMs = 120_000;

/**
 * Calls, one at a time and over and over until stopped: Probe, NodeGetVolumeStats of a healthy
 * volume, NodeGetVolumeStats of a hung one (from `pickHung`, which may rotate over the hung
 * volumes still published) and GET /healthz/live, pausing `pauseMs` between rounds. A failed call
 * still counts its time (up to its 120 s deadline).
 */
export function startLatencyLoop(
  d: DriverProcess,
  healthy: PublishedVolume,
  pickHung: () => HungPick | undefined,
  pauseMs = 100,
): { stop(): Promise<OutageLatency> } {
  const out: OutageLatency = { probeMs: [], statsHealthyMs: [], statsHungMs: [], liveMs: [], errors: {}, hungReportedHealthy: 0 };
  let stopped = false;
  const timed = async <T>(
    samples: number[],
    what: string,
    call: () => Promise<T>,
    expected?: (err: unknown) => boolean,
  ): Promise<T | undefined> => {
    const t = performance.now();
    try {
      return await call();
    } catch (err) {
      if (expected?.(err)) return undefined;
      const code = (err as { code?: number }).code;
      const key = `${what} ${code === undefined ? (err as Error).name : (grpcStatus[code] ?? code)}`;
      out.errors[key] = (out.errors[key] ?? 0) + 1;
      return undefined;
    } finally {
      samples.push(performance.now() - t);
    }
  };
  const stats = (v: PublishedVolume) => () =>
    d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }, callDeadlineMs);
  const live = async (): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${d.healthPort}/healthz/live`, { signal: AbortSignal.timeout(callDeadlineMs) });
    await res.text();
    if (res.status !== 200) throw new Error(`live ${res.status}`);
  };
  const loop = (async () => {
    while (!stopped) {
      await timed(out.probeMs, 'Probe', () => d.client.identity.Probe({}, callDeadlineMs));
      await timed(out.statsHealthyMs, 'NodeGetVolumeStats (healthy)', stats(healthy));
      const pick = pickHung();
      if (pick) {
        const goneNow = (err: unknown): boolean => (err as { code?: number }).code === grpcStatus.NOT_FOUND && pick.goingDown();
        const r = await timed(out.statsHungMs, 'NodeGetVolumeStats (hung)', stats(pick.volume), goneNow);
        if (r && pick.detected && !r.volume_condition?.abnormal) out.hungReportedHealthy++;
      }
      await timed(out.liveMs, '/healthz/live', live);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return out;
    },
  };
}

/**
 * The driver's event-loop lag as its own prom-client monitor saw it since the last scrape
 * (prom-client resets the histogram at each collection): p99 and max in ms.
 */
export async function scrapeEventLoopLag(d: DriverProcess): Promise<LagWindow> {
  const text = await (await fetch(`http://127.0.0.1:${d.healthPort}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
  const read = (name: string): number => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m?.[1] ? Number(m[1]) : NaN;
  };
  const started = (lane: string): number => read(`csi_driver_file_helpers_started_total\\{lane="${lane}"\\}`);
  return {
    p99Ms: read('nodejs_eventloop_lag_p99_seconds') * 1000,
    maxMs: read('nodejs_eventloop_lag_max_seconds') * 1000,
    helpersStarted: started('csi') + started('probe'),
    csiHelpersStarted: started('csi'),
  };
}

/** One window of the driver's event-loop lag, and the helpers it had started by the scrape that closed it. */
export interface LagWindow {
  p99Ms: number;
  maxMs: number;
  /** Helper processes started since the driver began (each is a fork of the driver process). */
  helpersStarted: number;
  /** Of them, those of the CSI lane (the rest are the probe lane's). */
  csiHelpersStarted: number;
}
