import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder, stopAndClean } from '../../helpers/cleanup';
import { driverDirs, startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { waitFor } from '../../helpers/bindfs';
import { createAndPublish } from '../../helpers/publish';
import { scaled } from '../reliabilityScale';
import { fetchMetrics, fetchMounts, metricValue } from './healthEndpoints';
import { HealthFaultLoop, type LongLivedVolume } from './healthFaultLoop';
import { heapSnapshotNodeArgs, takeHeapSnapshot, type LiveHeap } from './heapSnapshot';
import { judgeLeaks, sensitivityProblems } from './leakVerdicts';
import { childrenOf, isFileHelper } from './processSampler';
import { ResourceSampler } from './resourceSampler';
import { RpcTally } from './rpcTally';
import { SeededRandom } from './seededRandom';
import { formatSummary } from './soakSummary';
import { callDeadlineMs, retryTransient } from './retryTransient';
import { SoakWorker } from './soakWorker';

const soakSeconds = Number(process.env.SOAK_SECONDS ?? scaled(60, 600));
const seed = Number(process.env.SOAK_SEED ?? 20240611);
const workers = 3;
const intervalMs = 1000;
const timeoutMs = 500;
/** The pool's idle helpers (--health-concurrency 4, + 2) plus its most busy at once (16). */
const poolLimit = 6 + 16;
const mountRpcs = ['NodeStageVolume', 'NodePublishVolume', 'NodeUnpublishVolume', 'NodeUnstageVolume'];

/**
 * A real driver process under a seeded mixed workload (three workers walking their own volumes
 * through every lifecycle RPC, with listing, stats, health and Probe calls in between) while
 * health faults are injected: conditions, probe latency above the timeout, failures of the next
 * mounts, and FUSE storage frozen and crashed under published volumes. SOAK_SECONDS overrides
 * the length, SOAK_SEED the sequence, SOAK_SERIES=<file> writes the sampled series as JSON.
 */
describe('soak: mixed operations under injected health faults', function () {
  this.timeout((soakSeconds + 240) * 1000);
  let d: DriverProcess | undefined;
  const longLived: LongLivedVolume[] = [];

  after(async () => {
    for (const v of longLived) await v.fuse?.dispose();
    await stopAndClean(d);
  });

  it(`keeps the live heap, RSS, descriptors and helpers flat for ${soakSeconds}s, answers only expected codes, and leaves nothing stuck or mounted`, async () => {
    const dirs = driverDirs('csi-soak-');
    const heapDir = join(dirs.root, 'heap');
    mkdirSync(heapDir);
    d = await startDriverProcess(
      [
        '--health-check-interval',
        `${intervalMs}ms`,
        '--health-check-timeout',
        `${timeoutMs}ms`,
        '--health-failure-threshold',
        '2',
        '--health-success-threshold',
        '2',
        '--log-level',
        'info',
      ],
      dirs,
      { health: true, faults: true, nodeArgs: heapSnapshotNodeArgs(heapDir) },
    );
    const drv = d;
    const pid = drv.child.pid!;
    const healthPort = drv.healthPort!;
    const root = drv.dirs.root;
    const { node, controller } = drv.client;

    for (let i = 0; i < 2; i++) longLived.push(await createAndPublish(drv.client, root, drv.dirs.share, `soak-plain-${i}`));
    for (let i = 0; i < 3; i++) longLived.push(await createAndPublish(drv.client, root, drv.dirs.share, `soak-fuse-${i}`, { fuse: true }));

    const tally = new RpcTally();
    const sampler = new ResourceSampler(pid, healthPort, () => ({ ops: tally.total(), mountOps: tally.total(mountRpcs) }));
    const pool = Array.from(
      { length: workers },
      (_, i) =>
        new SoakWorker({ index: i, client: drv.client, tally, rand: new SeededRandom(seed + 7919 * (i + 1)), root, share: drv.dirs.share }),
    );
    const faults = new HealthFaultLoop({
      client: drv.client,
      tally,
      rand: new SeededRandom(seed),
      faultPort: drv.faultPort!,
      plain: longLived.filter((v) => !v.fuse),
      fuse: longLived.filter((v) => v.fuse),
      crashes: Math.max(2, Math.round(soakSeconds / 120)),
      durationMs: soakSeconds * 1000,
      detectBoundMs: intervalMs + timeoutMs + 15_000,
    });

    const started = Date.now();
    const endAt = started + soakSeconds * 1000;
    // One loop that throws stops the others, so that a failed run does not go on calling a driver being torn down.
    let failed = false;
    const stop = (): boolean => failed || Date.now() >= endAt || drv.child.exitCode !== null || drv.child.signalCode !== null;
    const loop = async (p: Promise<void>): Promise<void> => {
      try {
        await p;
      } catch (err) {
        failed = true;
        throw err;
      }
    };
    sampler.start(scaled(2000, 3000));
    // The live heap near the end of warm-up (the first quarter), while the workload runs. Not
    // later: writing a snapshot leaves some 75 MB of malloc'd memory resident, a jump the RSS
    // verdict must see inside warm-up, which it leaves out, not at the start of what it judges.
    const snapshotAfterWarmUp = (async (): Promise<{ heap: LiveHeap; ops: number } | undefined> => {
      await new Promise((r) => setTimeout(r, (soakSeconds * 1000) / 5));
      if (stop()) return undefined;
      const ops = tally.total();
      return { heap: await takeHeapSnapshot(pid, heapDir), ops };
    })();
    try {
      await Promise.all([...pool.map((w) => loop(w.run(stop))), loop(faults.run(stop)), loop(snapshotAfterWarmUp.then(() => undefined))]);
    } finally {
      await sampler.stop();
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    assert.equal(drv.child.exitCode, null, `the driver exited during the soak: ${drv.logText().slice(-3000)}`);
    assert.equal(drv.child.signalCode, null, 'the driver was killed during the soak');
    assert.deepEqual(sampler.errors, []);

    // Recovery: storage answers again and no fault is armed; every published volume must come
    // back healthy on every surface, and no helper may stay stuck.
    await faults.recover();
    const metrics = await waitFor(
      'every long-lived volume healthy again and no helper stuck',
      async () => {
        const mounts = await fetchMounts(healthPort);
        for (const v of longLived) {
          if (mounts[v.staging]?.state !== 'healthy' || mounts[v.target]?.state !== 'healthy') return false;
          const h = await node.NodeGetVolumeHealth(
            { volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: v.staging },
            callDeadlineMs,
          );
          if (h.volume_health?.health_statuses.length !== 0) return false;
          const c = await controller.ControllerGetVolume({ volume_id: v.volumeId }, callDeadlineMs);
          if (c.status?.volume_condition?.abnormal !== false) return false;
        }
        const text = await fetchMetrics(healthPort);
        return metricValue(text, 'csi_driver_probes_stuck') === 0 ? text : false;
      },
      60_000,
      250,
    );
    const children = await waitFor(
      'no child of the driver in D, T or Z state',
      async () => {
        const kids = childrenOf(pid);
        return kids.every((c) => !['D', 'T', 'Z'].includes(c.state)) ? kids : false;
      },
      20_000,
      250,
    );
    const helpersAtEnd = children.filter(isFileHelper).length;
    const probeTimeouts = metricValue(metrics, 'csi_driver_probe_timeouts_total') ?? 0;

    const heapBefore = await snapshotAfterWarmUp;
    assert.ok(heapBefore, 'no heap snapshot was taken after warm-up');
    const heapAfter = await takeHeapSnapshot(pid, heapDir);
    const verdicts = judgeLeaks(sampler.series, { before: heapBefore.heap, after: heapAfter, opsBetween: tally.total() - heapBefore.ops });
    const summary = formatSummary({
      seconds,
      seed,
      perRpc: tally.perRpc(),
      perCode: tally.perCode(),
      faults: faults.injected,
      probeTimeouts,
      helpersAtEnd,
      series: sampler.series,
      verdicts,
      heapKb: { before: heapBefore.heap.bytes / 1024, after: heapAfter.bytes / 1024 },
    });
    console.log(`      ${summary}`);
    if (process.env.SOAK_SERIES) writeFileSync(process.env.SOAK_SERIES, JSON.stringify(sampler.series));

    assert.deepEqual(tally.unexpected, [], 'calls answered with a code other than OK, UNAVAILABLE or ABORTED');
    assert.equal(tally.unexpectedCount(), 0);
    assert.deepEqual([...pool.flatMap((w) => w.violations), ...faults.violations], []);
    for (const [kind, n] of Object.entries(faults.injected)) assert.ok(n > 0, `no ${kind} fault was injected`);
    assert.ok(probeTimeouts > 0, 'no probe was ever killed: the hung storage and latency faults did not act');
    assert.ok(helpersAtEnd <= poolLimit, `${helpersAtEnd} file helpers left after recovery`);
    assert.deepEqual(verdicts.problems, []);
    assert.deepEqual(sensitivityProblems(verdicts), []);

    // Cleanup through the driver: nothing may stay mounted under the run's root, or listed.
    const left = (await Promise.all(pool.map((w) => w.cleanup()))).flat();
    for (const v of longLived) {
      const down =
        (await retryTransient(() =>
          tally.call('NodeUnpublishVolume', () =>
            node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target }, callDeadlineMs),
          ),
        )) &&
        (await retryTransient(() =>
          tally.call('NodeUnstageVolume', () =>
            node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging }, callDeadlineMs),
          ),
        ));
      await v.fuse?.dispose();
      delete v.fuse;
      if (
        !down ||
        !(await retryTransient(() => tally.call('DeleteVolume', () => controller.DeleteVolume({ volume_id: v.volumeId }, callDeadlineMs))))
      )
        left.push(v.volumeId);
    }
    assert.deepEqual(left, [], 'volumes or snapshots that could not be removed through the driver');
    assert.deepEqual(await mountsUnder(root), []);
    assert.deepEqual((await controller.ListVolumes({ max_entries: 0, starting_token: '' })).entries, []);
    assert.deepEqual(
      (await controller.ListSnapshots({ max_entries: 0, starting_token: '', source_volume_id: '', snapshot_id: '', secrets: {} })).entries,
      [],
    );
    const finalMetrics = await fetchMetrics(healthPort);
    assert.equal(metricValue(finalMetrics, 'csi_driver_monitored_mounts'), 0);
    // Per-volume series go with their volumes: otherwise every volume ever probed here stays in memory and in each scrape.
    assert.deepEqual(
      finalMetrics.split('\n').filter((l) => /^csi_driver_(probe_errors_total|volume_health_state|volume_injected_fault)\{/.test(l)),
      [],
    );
    assert.equal(await drv.stop(), 0, 'the driver did not stop cleanly after the soak');
  });
});
