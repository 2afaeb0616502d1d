import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { FsHelperPool } from '../src/isolation/fsHelperPool';
import { reusingMountTableReader } from '../src/mount/mountTable';
import { systemClock } from '../src/health/clock';
import { HealthMonitor } from '../src/health/healthMonitor';
import { childPids, procCpuSeconds, sleep } from './benchKit';

const silent = pino({ level: 'silent' });

function monitorFor(pool: FsHelperPool, intervalMs: number): HealthMonitor {
  return new HealthMonitor({
    isolation: pool,
    // As the driver sets it up.
    readTable: reusingMountTableReader(),
    clock: systemClock,
    logger: silent,
    intervalMs,
    timeoutMs: 5000,
    failureThreshold: 2,
    successThreshold: 2,
    concurrency: 4,
  });
}

/** Heap held per registered mount, measured with `count` registrations and forced GC. */
export async function heapPerMount(count: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const pool = new FsHelperPool({ logger: silent });
  const monitor = monitorFor(pool, 30_000);
  // Let the helper thread and a first helper start, so that their start-up garbage is gone before the first reading.
  await pool.run({ op: 'exists', path: '/' }, 30_000);
  // On a loaded machine that garbage is freed late: wait until the heap after a full GC holds still.
  let before = Infinity;
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    gc();
    gc();
    const h = process.memoryUsage().heapUsed;
    if (Math.abs(h - before) < 8 * 1024) break;
    before = h;
  }
  before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    monitor.register({
      volumeId: `pvc-${String(i).padStart(8, '0')}-5c7b-4d0e-9a43-1b2c3d4e5f60`,
      path: `/var/lib/kubelet/pods/${String(i).padStart(8, '0')}-aaaa-bbbb-cccc-ddddeeeeffff/volumes/kubernetes.io~csi/pvc-${i}/mount`,
      kind: 'publish',
      readOnly: false,
      expectedSource: '',
      stagingPath: `/var/lib/kubelet/plugins/kubernetes.io/csi/nfs-health.csi.dev/${i}/globalmount`,
    });
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  pool.close();
  return (after - before) / count;
}

export interface CpuResult {
  /** CPU seconds per second over all windows: 0.005 is half a percent of one core. */
  fraction: number;
  windows: number[];
  probes: number;
  cpuSeconds: number;
  selfSeconds: number;
  helperSeconds: number;
  /** Probe helper processes alive, sampled every second during the windows. */
  helpersMean: number;
  helpersMax: number;
}

/**
 * Samples the pool's own count of helper processes (busy, idle and killed-but-not-exited) every
 * second: free, unlike scanning /proc, whose cost would land in the figure being measured.
 */
function sampleHelpers(pool: FsHelperPool): { stop(): { mean: number; max: number } } {
  const counts: number[] = [];
  const take = (): void => {
    const { csi, probe } = pool.snapshot();
    counts.push(csi.busy + csi.idle + csi.stuck + probe.busy + probe.idle + probe.stuck);
  };
  take();
  const timer = setInterval(take, 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { mean: counts.reduce((a, b) => a + b, 0) / counts.length, max: Math.max(...counts) };
    },
  };
}

/** heapPerMount(count) measured in a fresh child process. */
export function heapPerMountIsolated(count: number): number {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'heapPerMountMain.js'), String(count)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return (JSON.parse(out) as { bytes: number }).bytes;
}

/**
 * CPU of the monitor (this process plus its probe helpers) over `intervals` steady intervals with
 * `count` real bind mounts on a tmpfs, every one probed with write/fsync/read/delete + statfs.
 */
export async function cpuPerInterval(count: number, intervalMs: number, intervals: number): Promise<CpuResult> {
  const root = mkdtempSync('/tmp/csi-bench-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'csi-bench', root]);
  const targets: string[] = [];
  try {
    mkdirSync(path.join(root, 'src'));
    for (let i = 0; i < count; i++) {
      const src = path.join(root, 'src', String(i));
      const dst = path.join(root, 'mnt', String(i));
      mkdirSync(src, { recursive: true });
      mkdirSync(dst, { recursive: true });
      execFileSync('mount', ['--bind', src, dst]);
      targets.push(dst);
    }
    const pool = new FsHelperPool({ logger: silent, maxIdle: 6 });
    const monitor = monitorFor(pool, intervalMs);
    let probes = 0;
    for (const t of targets) monitor.register({ volumeId: `v${t}`, path: t, kind: 'publish', readOnly: false, expectedSource: '' });
    monitor.start();
    // The first interval carries the start-up burst; measure the next one.
    await sleep(intervalMs + 2000);
    const helpers = sampleHelpers(pool);
    const windows: number[] = [];
    let cpuSeconds = 0;
    let selfSeconds = 0;
    let helperSeconds = 0;
    for (let w = 0; w < intervals; w++) {
      const helpersBefore = new Map(childPids(process.pid).map((p) => [p, procCpuSeconds(p)]));
      const selfBefore = process.cpuUsage();
      const checkedBefore = monitor.all().map((m) => m.lastCheckTime);
      await sleep(intervalMs);
      const self = process.cpuUsage(selfBefore);
      let helperCpu = 0;
      for (const p of childPids(process.pid)) helperCpu += procCpuSeconds(p) - (helpersBefore.get(p) ?? 0);
      probes += monitor.all().filter((m, i) => m.lastCheckTime !== checkedBefore[i]).length;
      const selfS = (self.user + self.system) / 1e6;
      windows.push((selfS + helperCpu) / (intervalMs / 1000));
      cpuSeconds += selfS + helperCpu;
      selfSeconds += selfS;
      helperSeconds += helperCpu;
    }
    const alive = helpers.stop();
    monitor.stop();
    pool.close();
    return {
      fraction: cpuSeconds / ((intervals * intervalMs) / 1000),
      windows,
      probes,
      cpuSeconds,
      selfSeconds,
      helperSeconds,
      helpersMean: alive.mean,
      helpersMax: alive.max,
    };
  } finally {
    for (const t of targets) execFileSync('umount', [t]);
    execFileSync('umount', ['-l', root]);
    rmSync(root, { recursive: true, force: true });
  }
}
