import { startDriverProcess, type DriverProcess } from '../test/helpers/driverProcess';
import { createAndPublish, type PublishedVolume } from '../test/helpers/publish';
import { waitFor } from '../test/helpers/bindfs';
import { stopAndClean } from '../test/helpers/cleanup';
import { percentile, sleep } from './benchKit';

const intervalMs = 2000;
const timeoutMs = 1000;

async function scrapeLagP99(d: DriverProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${d.healthPort}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  return m?.[1] ? Number(m[1]) * 1000 : NaN;
}

const unresponsive = async (d: DriverProcess, v: PublishedVolume): Promise<boolean> => {
  const r = await d.client.node.NodeGetVolumeHealth({ volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' }, 5000);
  return r.volume_health?.health_statuses.some((x) => x.reason === 'MountUnresponsive') ?? false;
};

export interface HungMountResults {
  detectionMs: number[];
  boundMs: number;
  probeMs: number[];
  statsHealthyMs: number[];
  statsHungMs: number[];
  lagP99Ms: number;
}

/** Time from SIGSTOP of a FUSE daemon to MountUnresponsive, and RPC latency with 10 hung mounts. */
export async function hungMountBench(rounds: number, calls: number): Promise<HungMountResults> {
  const d = await startDriverProcess(['--health-check-interval', `${intervalMs}ms`, '--health-check-timeout', `${timeoutMs}ms`, '--log-level', 'warn'], undefined, { health: true });
  const published: PublishedVolume[] = [];
  try {
    const probeVol = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'bench-detect', { fuse: true });
    published.push(probeVol);
    const detectionMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await waitFor('healthy', async () => !(await unresponsive(d, probeVol)) && (await d.client.node.NodeGetVolumeHealth({ volume_id: probeVol.volumeId, volume_publish_path: probeVol.target, staging_target_path: '' })).volume_health?.health_statuses.length === 0, 30_000, 50);
      // Start at a random phase of the check cycle.
      await sleep(Math.random() * intervalMs);
      const t0 = performance.now();
      probeVol.fuse!.freeze();
      await waitFor('detection', () => unresponsive(d, probeVol), 30_000, 20);
      detectionMs.push(performance.now() - t0);
      probeVol.fuse!.thaw();
    }
    const healthy = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'bench-healthy');
    published.push(healthy);
    const hung: PublishedVolume[] = [];
    for (let i = 0; i < 10; i++) hung.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `bench-hung-${i}`, { fuse: true }));
    published.push(...hung);
    await sleep(intervalMs);
    for (const v of hung) v.fuse!.freeze();
    await waitFor('all hung detected', async () => {
      for (const v of hung) if (!(await unresponsive(d, v))) return false;
      return true;
    }, 60_000);
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
    return { detectionMs, boundMs: intervalMs + timeoutMs, probeMs, statsHealthyMs, statsHungMs, lagP99Ms };
  } finally {
    for (const v of published) await v.fuse?.dispose();
    await stopAndClean(d);
  }
}

export { percentile };
