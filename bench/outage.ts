import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startDriverProcess, driverDirs, type DriverProcess } from '../test/helpers/driverProcess';
import { createAndPublish, type PublishedVolume } from '../test/helpers/publish';
import { waitFor } from '../test/helpers/bindfs';
import { mountsUnder, stopAndClean } from '../test/helpers/cleanup';
import { frozenStorage, type FrozenStorage, type OutageVariant } from '../test/helpers/frozenStorage';
import { allCheckedHealthy, mountPathsOf, mountReports, tearDown, watchDetection, type TeardownCall } from '../test/helpers/outageWatch';
import { latencyStats, type LatencyStats } from './latencyStats';
import { healthyOpsDuringOutage, type HealthyOps } from './outageHealthyOps';
import { scrapeEventLoopLag, startLatencyLoop, type HungPick, type LagWindow } from './outageLatency';
import { sampleProcessTree, type ProcessPeak } from './processTree';
import { LagCanary, type LagFigures } from './lagCanary';
import { podCpuGroup } from './podCpuGroup';

/** The lag of one window of the outage and the helper processes the driver started in it. */
export interface WindowFigures {
  p99Ms: number;
  maxMs: number;
  helpersStarted: number;
  /** Of them, those of the CSI lane (the rest are the probe lane's). */
  csiHelpersStarted: number;
  /** The lag of an idle process on the same machine over the same window. */
  idle: LagFigures;
}

/** The helpers started between two scrapes, in all and in the CSI lane. */
function startedBetween(from: LagWindow, to: LagWindow): Pick<WindowFigures, 'helpersStarted' | 'csiHelpersStarted'> {
  return { helpersStarted: to.helpersStarted - from.helpersStarted, csiHelpersStarted: to.csiHelpersStarted - from.csiHelpersStarted };
}

/** One outage run's shape. */
export interface OutageSetup {
  variant: OutageVariant;
  intervalMs: number;
  timeoutMs: number;
  /** Volumes created, staged and published. */
  n: number;
  /** Of them, on frozen storage. */
  h: number;
  /** Hung volumes torn down at once. */
  parallel: number;
}

export interface OutageResult extends OutageSetup {
  /** Interval + timeout + the monitor's scheduling tick (interval / 10, 50 ms to 1 s). */
  boundMs: number;
  /** Freeze to first report as abnormal, per hung mount point (staging and publish), in ms. */
  detectionMs: number[];
  /** Hung mount points not reported abnormal within the watch's limit. */
  undetected: number;
  watchLimitMs: number;
  probe: LatencyStats;
  statsHealthy: LatencyStats;
  statsHung: LatencyStats;
  live: LatencyStats;
  callErrors: Record<string, number>;
  hungReportedHealthy: number;
  /** The driver's event-loop lag (its prom-client monitor), worst of the outage's two windows. */
  lag: { p99Ms: number; maxMs: number };
  /** Lag and helper processes started, in the detection window (freeze to all reported) and the teardown. */
  windows: { detection: WindowFigures; teardown: WindowFigures };
  healthyOps: HealthyOps;
  unpublish: LatencyStats;
  unstage: LatencyStats;
  teardownTotalMs: number;
  teardownFailures: string[];
  /** Mount points of hung volumes still in the mount table after the teardown. */
  leftMounted: number;
  peak: ProcessPeak;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The monitor's scheduling tick as the driver derives it from the interval. */
export const monitorTickMs = (intervalMs: number): number => Math.max(50, Math.min(1000, Math.floor(intervalMs / 10)));

async function publishAll(
  d: DriverProcess,
  storage: FrozenStorage,
  s: OutageSetup,
): Promise<{ healthy: PublishedVolume[]; hung: PublishedVolume[] }> {
  const healthy: PublishedVolume[] = [];
  const hung: PublishedVolume[] = [];
  for (let i = 0; i < s.n; i++) {
    if (i < s.h)
      hung.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `outage-hung-${i}`, { cover: (id) => storage.cover(id) }));
    else healthy.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `outage-healthy-${i}`));
  }
  return { healthy, hung };
}

function teardownStats(calls: TeardownCall[], rpc: TeardownCall['rpc']): LatencyStats {
  return latencyStats(calls.filter((c) => c.rpc === rpc).map((c) => c.ms));
}

/** Which hung volumes are on their way down, for the latency loop's choice of a hung volume. */
class HungRotation {
  /** A volume is asked about until its unpublish returns: on its way down it must still report what the monitor knew. */
  readonly unpublished = new Set<string>();
  readonly unpublishing = new Set<string>();
  private turn = 0;
  constructor(
    private readonly hung: readonly PublishedVolume[],
    private readonly seen: ReadonlyMap<string, number>,
  ) {}

  pick(): HungPick | undefined {
    const left = this.hung.filter((v) => !this.unpublished.has(v.volumeId));
    const v = left[this.turn++ % Math.max(1, left.length)];
    return v ? { volume: v, detected: this.seen.has(v.target), goingDown: () => this.unpublishing.has(v.volumeId) } : undefined;
  }
}

/** Freezes the storage and measures until every hung volume is torn down. */
async function measureOutage(
  d: DriverProcess,
  storage: FrozenStorage,
  s: OutageSetup,
  healthy: PublishedVolume[],
  hung: PublishedVolume[],
  say: (line: string) => void,
  canary: LagCanary,
): Promise<OutageResult> {
  const label = `outage[${s.variant} ${s.intervalMs / 1000}s/${s.timeoutMs / 1000}s]`;
  // Both lag windows start at the freeze.
  const [atFreeze] = await Promise.all([scrapeEventLoopLag(d), canary.window()]);
  const sampler = sampleProcessTree(d.child.pid!, () => storage.daemonPids());
  const hungPaths = mountPathsOf(hung);
  const seen = new Map<string, number>();
  const rotation = new HungRotation(hung, seen);
  storage.freeze();
  const t0 = performance.now();
  const calls = startLatencyLoop(d, healthy[0]!, () => rotation.pick());
  const ops = healthyOpsDuringOutage(d, t0, [s.timeoutMs, s.intervalMs, s.intervalMs + s.timeoutMs], 'outage-fresh');
  const watchLimitMs = 4 * (s.intervalMs + s.timeoutMs) + 60_000;
  await watchDetection(d.healthPort!, hungPaths, t0, watchLimitMs, seen);
  const healthyOps = await ops;
  const [lagDetect, idleDetect] = await Promise.all([scrapeEventLoopLag(d), canary.window()]);
  say(`${label}: ${seen.size} of ${hungPaths.length} hung mounts reported; tearing down`);

  const t1 = performance.now();
  const teardown = await tearDown(d.client, hung, s.parallel, 300_000, {
    onStart: (v) => rotation.unpublishing.add(v.volumeId),
    onCall: (c) => void (c.rpc === 'NodeUnpublishVolume' && rotation.unpublished.add(c.volumeId)),
  });
  const teardownTotalMs = performance.now() - t1;
  const [lagTeardown, idleTeardown] = await Promise.all([scrapeEventLoopLag(d), canary.window()]);
  const lat = await calls.stop();
  const peak = await sampler.stop();
  const mounted = new Set(await mountsUnder(d.dirs.root));
  return {
    ...s,
    boundMs: s.intervalMs + s.timeoutMs + monitorTickMs(s.intervalMs),
    detectionMs: [...seen.values()],
    undetected: hungPaths.length - seen.size,
    watchLimitMs,
    probe: latencyStats(lat.probeMs),
    statsHealthy: latencyStats(lat.statsHealthyMs),
    statsHung: latencyStats(lat.statsHungMs),
    live: latencyStats(lat.liveMs),
    callErrors: lat.errors,
    hungReportedHealthy: lat.hungReportedHealthy,
    lag: { p99Ms: Math.max(lagDetect.p99Ms, lagTeardown.p99Ms), maxMs: Math.max(lagDetect.maxMs, lagTeardown.maxMs) },
    windows: {
      detection: { ...lagDetect, ...startedBetween(atFreeze, lagDetect), idle: idleDetect },
      teardown: { ...lagTeardown, ...startedBetween(lagDetect, lagTeardown), idle: idleTeardown },
    },
    healthyOps,
    unpublish: teardownStats(teardown, 'NodeUnpublishVolume'),
    unstage: teardownStats(teardown, 'NodeUnstageVolume'),
    teardownTotalMs,
    teardownFailures: teardown.filter((c) => c.error).map((c) => `${c.rpc} ${c.volumeId}: ${c.error}`),
    leftMounted: hungPaths.filter((p) => mounted.has(p)).length,
    peak,
  };
}

/** On SIGINT or SIGTERM: leaves no frozen daemon, driver or mount behind, then exits. */
function interruptCleanup(d: DriverProcess, storage: FrozenStorage): () => void {
  return () => {
    storage.thaw();
    d.child.kill('SIGKILL');
    const table = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '');
    for (const p of table.filter((m) => m.startsWith(`${d.dirs.root}/`)).reverse()) spawnSync('umount', ['-l', p], { timeout: 10_000 });
    for (const pid of storage.daemonPids()) process.kill(pid, 'SIGKILL');
    process.exit(130);
  };
}

/**
 * One outage: a driver with `n` published volumes, `h` of them on FUSE storage that is frozen at
 * once; measures detection, call latency, event-loop lag, healthy-volume work and the teardown of
 * every hung volume, with the process tree's peak. Always thaws and cleans up.
 */
export async function outageRun(s: OutageSetup, say: (line: string) => void): Promise<OutageResult> {
  if (!(s.h >= 1 && s.n > s.h)) throw new Error(`outage needs 1 <= H < N (got N=${s.n}, H=${s.h})`);
  const d = await startDriverProcess(
    ['--health-check-interval', `${s.intervalMs}ms`, '--health-check-timeout', `${s.timeoutMs}ms`, '--log-level', 'warn'],
    driverDirs('csi-outage-'),
    { health: true, ownSession: true },
  );
  const group = podCpuGroup(d.child.pid!);
  say(`outage[${s.variant} ${s.intervalMs / 1000}s/${s.timeoutMs / 1000}s]: driver CPU group: ${group.description}`);
  const storage = frozenStorage(s.variant, d.dirs.root, d.dirs.share);
  const canary = new LagCanary();
  const onSignal = interruptCleanup(d, storage);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { healthy, hung } = await publishAll(d, storage, s);
    const paths = mountPathsOf([...healthy, ...hung]);
    await waitFor(
      'every mount checked and healthy',
      async () => allCheckedHealthy(await mountReports(d.healthPort!), paths),
      3 * s.intervalMs + 120_000,
      500,
    );
    say(
      `outage[${s.variant} ${s.intervalMs / 1000}s/${s.timeoutMs / 1000}s]: ${s.n} volumes published, every mount checked healthy; freezing ${s.h}`,
    );
    return await measureOutage(d, storage, s, healthy, hung, say, canary);
  } finally {
    canary.stop();
    storage.thaw();
    await sleep(100);
    await Promise.race([d.stop(), sleep(30_000)]);
    if (d.child.exitCode === null && d.child.signalCode === null) await d.kill();
    await storage.dispose();
    await stopAndClean(d);
    group.remove();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
