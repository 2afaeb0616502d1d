import { startDriverProcess, type DriverProcess } from '../test/helpers/driverProcess';
import { createAndPublish, type PublishedVolume } from '../test/helpers/publish';
import { waitFor } from '../test/helpers/bindfs';
import { stopAndClean } from '../test/helpers/cleanup';
import { sleep } from './benchKit';
import { detectionIntervalMs, detectionTimeoutMs } from './detection';
import { latencyStats, type LatencyStats } from './latencyStats';

async function scrapeLagP99(d: DriverProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${d.healthPort}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  return m?.[1] ? Number(m[1]) * 1000 : NaN;
}

const unresponsive = async (d: DriverProcess, v: PublishedVolume): Promise<boolean> => {
  const r = await d.client.node.NodeGetVolumeHealth(
    { volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' },
    5000,
  );
  return r.volume_health?.health_statuses.some((x) => x.reason === 'MountUnresponsive') ?? false;
};

export interface HungMountResults {
  probe: LatencyStats;
  statsHealthy: LatencyStats;
  statsHung: LatencyStats;
  /** The driver's own event-loop lag p99 (prom-client's monitor) while the calls ran. */
  lagP99Ms: number;
}

/**
 * RPC latency while 10 mounts are hung (their FUSE daemons stopped) and the monitor keeps
 * probing them every 2 s with a 1 s deadline: Probe, and NodeGetVolumeStats of a healthy and of
 * a hung volume, called in turn one at a time.
 */
export async function hungMountBench(calls: number): Promise<HungMountResults> {
  const d = await startDriverProcess(
    ['--health-check-interval', `${detectionIntervalMs}ms`, '--health-check-timeout', `${detectionTimeoutMs}ms`, '--log-level', 'warn'],
    undefined,
    { health: true },
  );
  const published: PublishedVolume[] = [];
  try {
    const healthy = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'bench-healthy');
    published.push(healthy);
    const hung: PublishedVolume[] = [];
    for (let i = 0; i < 10; i++) hung.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `bench-hung-${i}`, { fuse: true }));
    published.push(...hung);
    await sleep(detectionIntervalMs);
    for (const v of hung) v.fuse!.freeze();
    await waitFor(
      'all hung detected',
      async () => {
        for (const v of hung) if (!(await unresponsive(d, v))) return false;
        return true;
      },
      60_000,
    );
    await scrapeLagP99(d);
    const probeMs: number[] = [];
    const statsHealthyMs: number[] = [];
    const statsHungMs: number[] = [];
    for (let i = 0; i < calls; i++) {
      let t = performance.now();
      await d.client.identity.Probe({}, 5000);
      probeMs.push(performance.now() - t);
      t = performance.now();
      await d.client.node.NodeGetVolumeStats({ volume_id: healthy.volumeId, volume_path: healthy.target, staging_target_path: '' }, 5000);
      statsHealthyMs.push(performance.now() - t);
      const h = hung[i % hung.length]!;
      t = performance.now();
      await d.client.node.NodeGetVolumeStats({ volume_id: h.volumeId, volume_path: h.target, staging_target_path: '' }, 5000);
      statsHungMs.push(performance.now() - t);
    }
    const lagP99Ms = await scrapeLagP99(d);
    return { probe: latencyStats(probeMs), statsHealthy: latencyStats(statsHealthyMs), statsHung: latencyStats(statsHungMs), lagP99Ms };
  } finally {
    for (const v of published) await v.fuse?.dispose();
    await stopAndClean(d);
  }
}
