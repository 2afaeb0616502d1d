import { startDriverProcess, type DriverProcess } from '../test/helpers/driverProcess';
import { createAndPublish, type PublishedVolume } from '../test/helpers/publish';
import { getJson, waitFor } from '../test/helpers/bindfs';
import { stopAndClean } from '../test/helpers/cleanup';
import { sleep } from './benchKit';

export const detectionIntervalMs = 2000;
export const detectionTimeoutMs = 1000;

export interface DetectionResults {
  boundMs: number;
  /** SIGSTOP of the FUSE daemon to MountUnresponsive. */
  hungMs: number[];
  /** SIGKILL of the FUSE daemon to an abnormal condition, and the reasons reported. */
  deadMs: number[];
  deadReasons: string[];
}

/** True once the monitor has checked the volume's published path at least once. */
async function checkedOnce(d: DriverProcess, v: PublishedVolume): Promise<boolean> {
  const { body } = await getJson(d.healthPort!, '/healthz/mounts');
  return Boolean((body as Record<string, { lastCheckTime: string | null }>)[v.target]?.lastCheckTime);
}

async function reasons(d: DriverProcess, v: PublishedVolume): Promise<string[]> {
  const r = await d.client.node.NodeGetVolumeHealth(
    { volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' },
    5000,
  );
  return (r.volume_health?.health_statuses ?? []).map((x) => x.reason ?? '');
}

/**
 * Fault-to-detection time with the monitor at interval 2 s and timeout 1 s, faults started at a
 * random phase of the check cycle: a hung mount (SIGSTOP, recovered with SIGCONT between rounds)
 * and a dead one (SIGKILL; a fresh volume each round).
 */
export async function detectionBench(rounds: number): Promise<DetectionResults> {
  const d = await startDriverProcess(
    ['--health-check-interval', `${detectionIntervalMs}ms`, '--health-check-timeout', `${detectionTimeoutMs}ms`, '--log-level', 'warn'],
    undefined,
    { health: true },
  );
  const published: PublishedVolume[] = [];
  try {
    const hung = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'bench-hung', { fuse: true });
    published.push(hung);
    const hungMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await waitFor('healthy', async () => (await reasons(d, hung)).length === 0, 30_000, 50);
      await sleep(Math.random() * detectionIntervalMs);
      const t0 = performance.now();
      hung.fuse!.freeze();
      await waitFor('hung detection', async () => (await reasons(d, hung)).includes('MountUnresponsive'), 30_000, 20);
      hungMs.push(performance.now() - t0);
      hung.fuse!.thaw();
    }
    const deadMs: number[] = [];
    const deadReasons: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, `bench-dead-${r}`, { fuse: true });
      published.push(v);
      await waitFor('checked and healthy', async () => (await checkedOnce(d, v)) && (await reasons(d, v)).length === 0, 30_000, 50);
      await sleep(Math.random() * detectionIntervalMs);
      const t0 = performance.now();
      v.fuse!.crash();
      const seen = await waitFor(
        'dead detection',
        async () => {
          const rs = await reasons(d, v);
          return rs.length > 0 ? rs : undefined;
        },
        30_000,
        20,
      );
      deadMs.push(performance.now() - t0);
      deadReasons.push(...seen.filter((x) => !deadReasons.includes(x)));
    }
    return { boundMs: detectionIntervalMs + detectionTimeoutMs, hungMs, deadMs, deadReasons };
  } finally {
    for (const v of published) await v.fuse?.dispose();
    await stopAndClean(d);
  }
}
