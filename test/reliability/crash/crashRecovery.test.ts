import { strict as assert } from 'node:assert';
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { getJson } from '../../helpers/bindfs';
import { stopAndClean, unmountLeftovers } from '../../helpers/cleanup';
import { grpc } from '../../helpers/csiClient';
import { driverDirs, startDriverProcess, type DriverDirs, type DriverProcess } from '../../helpers/driverProcess';
import { scaled } from '../reliabilityScale';
import { retryAsCo, settle, valueOf } from '../concurrency/coRetry';
import { assertHealthyCondition, auditShare, mountsByPath, readNodeState } from '../concurrency/shareAudit';
import { seedFrom, seededRandom } from '../concurrency/seededRandom';
import {
  checkMounts,
  emptyModel,
  expectedMounts,
  pickRpc,
  planCall,
  rpcNames,
  type CrashModel,
  type CrashRpc,
  type Phase,
  type PlannedCall,
} from './crashOps';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash recovery: SIGKILL the driver in the middle of a call, restart, retry as a CO', function () {
  const rounds = scaled(12, 60);
  this.timeout(scaled(240_000, 1_800_000));
  const random = seededRandom(seedFrom('CRASH_SEED'));
  /** One set of directories for every incarnation of the driver: each restart finds what the killed one left. */
  let dirs: DriverDirs;
  // Probes run between the crashes, so the monitor's registrations are exercised too.
  const start = () => startDriverProcess(['--health-check-interval', '1s', '--health-check-timeout', '500ms'], dirs, { health: true });
  let d: DriverProcess | undefined;
  let model: CrashModel = emptyModel();
  /** Per call: the time (ms) it takes when nothing is killed; kill delays are drawn from 0 to a bit beyond it. */
  const windows = new Map<CrashRpc, number>();

  before(async () => {
    console.log(
      `      crash seed ${random.seed} (CRASH_SEED=${random.seed} replays the same calls and delays; where a kill lands still varies with timing)`,
    );
    dirs = driverDirs('csi-crash-');
    d = await start();
    await calibrate();
  });
  after(async () => {
    if (d) await stopAndClean(d);
    else if (dirs) {
      await unmountLeftovers(dirs.root);
      rmSync(dirs.root, { recursive: true, force: true });
    }
  });

  /** Times every kind of call three times (after a warm-up) without killing, on a model of its own that is taken down afterwards. */
  async function calibrate(): Promise<void> {
    const took = new Map<CrashRpc, number[]>();
    const env = { dirs, model: emptyModel(), random };
    const order: CrashRpc[] = [
      'CreateVolume',
      'CreateSnapshot',
      'NodeStageVolume',
      'NodePublishVolume',
      'NodeUnpublishVolume',
      'NodeUnstageVolume',
      'DeleteVolume',
    ];
    for (let k = 0; k < 4; k++) {
      for (const rpc of order) {
        const plan = planCall(rpc, 1000 + k, env);
        const t0 = performance.now();
        const value = valueOf(plan.what, await settle(plan.call(d!.client)));
        // The first pass warms up (helpers, code paths) and is not counted.
        if (k > 0) took.set(rpc, [...(took.get(rpc) ?? []), performance.now() - t0]);
        await plan.settle(value);
      }
    }
    for (const id of env.model.snapshots.keys()) await d!.client.controller.DeleteSnapshot({ snapshot_id: id, secrets: {} });
    for (const [rpc, ms] of took) windows.set(rpc, Math.max(3, Math.ceil(1.5 * Math.max(...ms))));
    console.log(`      kill windows (1.5 x the slowest of 3 undisturbed calls): ${[...windows].map(([r, w]) => `${r} ${w}ms`).join(', ')}`);
  }

  /** Share, mounts, node records and monitor all agree with what the CO was told. */
  async function checkAll(): Promise<void> {
    const audit = auditShare(dirs.share);
    assert.deepEqual(audit.problems, [], 'no half-written record, temp file or orphaned directory on the share');
    assert.deepEqual([...audit.volumes.keys()].sort(), [...model.volumes.keys()].sort(), 'exactly the volumes the CO made');
    for (const [id, v] of model.volumes)
      assert.deepEqual([audit.volumes.get(id)!.name, audit.volumes.get(id)!.capacityBytes], [v.name, v.capacity]);
    assert.deepEqual([...audit.snapshots.keys()].sort(), [...model.snapshots.keys()].sort(), 'exactly the snapshots the CO made');
    for (const [id, s] of model.snapshots) assert.equal(audit.snapshots.get(id)!.sourceVolumeId, s.source);

    await checkMounts(dirs, model);
    const expected = expectedMounts(model);
    const state = readNodeState(dirs.state);
    assert.deepEqual(state.strayFiles, [], 'no temp file in the state dir');
    assert.deepEqual(state.records.map((r) => r.path).sort(), [...expected.keys()].sort(), 'the node records exactly the mounts');
    const monitored = (await getJson(d!.healthPort!, '/healthz/mounts')).body as Record<string, { volumeId: string }>;
    assert.deepEqual(Object.keys(monitored).sort(), [...expected.keys()].sort(), 'the monitor watches every mount, and only those');
    for (const [p, id] of expected) {
      assert.equal(monitored[p]!.volumeId, id);
      const stats = await d!.client.node.NodeGetVolumeStats({ volume_id: id, volume_path: p, staging_target_path: '' });
      assertHealthyCondition(stats.volume_condition, p);
    }
  }

  /**
   * Right after a restart, before any retry: the monitor watches every mount the node has a record
   * of, and every mount the CO was told about (but the one the killed call was taking down).
   */
  async function checkRestarted(plan: PlannedCall): Promise<void> {
    const monitored = Object.keys((await getJson(d!.healthPort!, '/healthz/mounts')).body as Record<string, unknown>).sort();
    assert.deepEqual(
      monitored,
      readNodeState(dirs.state)
        .records.map((r) => r.path)
        .sort(),
      'the restarted monitor watches every recorded mount',
    );
    for (const p of expectedMounts(model).keys()) {
      if (plan.takesDown !== p) assert.ok(monitored.includes(p), `the restarted monitor forgot ${p}`);
    }
  }

  /** Starts the call, SIGKILLs the driver after a random delay or once the call is half-way on disk; `answered`: it had returned OK. */
  async function killDuring(plan: PlannedCall): Promise<{ how: string; answered: boolean }> {
    let answered = false;
    const first = settle(plan.call(d!.client)).then((o) => {
      answered = o.code === grpc.status.OK;
      return o;
    });
    let how: string;
    if (random.chance(0.6)) {
      const delay = random.next() * windows.get(plan.rpc)!;
      how = `after ${delay.toFixed(1)}ms`;
      await sleep(delay);
    } else {
      how = 'once half-way on disk';
      const deadline = Date.now() + 10_000;
      let done = false;
      void first.then(() => (done = true));
      while (!done && !(await plan.midway()) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    }
    await d!.kill();
    await first;
    return { how, answered };
  }

  it(`converges after a SIGKILL in each of ${rounds} rounds: same ids, one mount each, whole records, no orphans, every mount watched`, async () => {
    const stats = new Map<CrashRpc, Record<Phase | 'answered' | 'retries', number>>(
      rpcNames.map((r) => [r, { none: 0, partial: 0, complete: 0, answered: 0, retries: 0 }]),
    );
    let strayBeforeRetry = 0;
    let unfinishedBeforeRetry = 0;
    let unrecordedMountsBeforeRetry = 0;
    for (let round = 0; round < rounds; round++) {
      const counts = new Map([...stats].map(([r, s]) => [r, s.none + s.partial + s.complete]));
      const plan = planCall(pickRpc(model, random, counts), round, { dirs, model, random });
      let step = 'kill';
      try {
        const { how, answered } = await killDuring(plan);
        const phase = await plan.phase();
        step = `check after the kill (${how}, ${phase})`;
        // Records are written atomically: whatever exists parses, even right after the kill.
        const pre = auditShare(dirs.share);
        assert.deepEqual(
          pre.problems.filter((p) => /does not parse|bad fields/.test(p)),
          [],
          'no half-written record after SIGKILL',
        );
        strayBeforeRetry += pre.problems.filter((p) => /stray/.test(p)).length;
        unfinishedBeforeRetry += pre.problems.filter((p) => /unfinished/.test(p)).length;
        const recorded = new Set(readNodeState(dirs.state).records.map((r) => r.path));
        unrecordedMountsBeforeRetry += [...(await mountsByPath(dirs.root)).keys()].filter((p) => !recorded.has(p)).length;

        step = `restart (${how}, ${phase})`;
        d = await start();
        await checkRestarted(plan);
        step = `retry (${how}, ${phase})`;
        const out = await retryAsCo(() => plan.call(d!.client), {
          retryOn: [grpc.status.ABORTED, grpc.status.UNAVAILABLE],
          deadlineMs: 30_000,
        });
        await plan.settle(valueOf(`retry of ${plan.what}`, out));
        step = `check after the retry (${how}, ${phase})`;
        await checkAll();
        const s = stats.get(plan.rpc)!;
        s[phase]++;
        if (answered) s.answered++;
        s.retries += out.attempts - 1;
      } catch (err) {
        (err as Error).message = `round ${round} (CRASH_SEED=${random.seed}), ${plan.what}, ${step}: ${(err as Error).message}`;
        throw err;
      }
    }
    console.log(
      `      ${rounds} rounds; state the kill left (none/partial/complete), calls that had answered OK before the kill, extra retries:`,
    );
    for (const [rpc, s] of stats) {
      if (s.none + s.partial + s.complete > 0)
        console.log(`        ${rpc.padEnd(20)} ${s.none}/${s.partial}/${s.complete}, answered ${s.answered}, retries ${s.retries}`);
    }
    console.log(
      `      the kills left ${unfinishedBeforeRetry} unfinished record directories, ${strayBeforeRetry} temp files and ${unrecordedMountsBeforeRetry} mounts without a node record: all resolved by restart and retry`,
    );

    // Take everything down as the CO would; nothing may be left.
    const { controller, node } = d!.client;
    for (const [target, id] of model.published)
      valueOf('NodeUnpublishVolume', await retryAsCo(() => node.NodeUnpublishVolume({ volume_id: id, target_path: target })));
    for (const [id, staging] of model.staged)
      valueOf('NodeUnstageVolume', await retryAsCo(() => node.NodeUnstageVolume({ volume_id: id, staging_target_path: staging })));
    for (const id of model.volumes.keys()) valueOf('DeleteVolume', await retryAsCo(() => controller.DeleteVolume({ volume_id: id })));
    for (const id of model.snapshots.keys())
      valueOf('DeleteSnapshot', await retryAsCo(() => controller.DeleteSnapshot({ snapshot_id: id, secrets: {} })));
    model = emptyModel();
    await checkAll();
    assert.deepEqual(readdirSync(path.join(dirs.share, 'volumes')), [], 'no volume directory left');
    assert.deepEqual(readdirSync(path.join(dirs.share, 'snapshots')), [], 'no snapshot directory left');
  });
});
