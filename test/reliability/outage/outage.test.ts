import { strict as assert } from 'node:assert';
import { grpc, expectCode } from '../../helpers/csiClient';
import { stopAndClean, mountsUnder } from '../../helpers/cleanup';
import { driverDirs, startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { frozenStorage, outageVariants, type FrozenStorage } from '../../helpers/frozenStorage';
import { allCheckedHealthy, mountPathsOf, mountReports, tearDown, watchDetection } from '../../helpers/outageWatch';
import { descendants, fateOf, identify, type ProcessIdentity } from '../../helpers/processTree';
import { waitFor } from '../../helpers/bindfs';
import { createAndPublish, type PublishedVolume } from '../../helpers/publish';
import { scaled } from '../reliabilityScale';

// A whole-server outage at a size a busy 2-core machine runs in a minute or two: every check
// below is a behaviour with a generous outer bound, never a speed.
const volumes = scaled(24, 200);
const frozen = scaled(16, 150);
const intervalMs = 2000;
const timeoutMs = 1000;
const detectionLimitMs = 120_000;
const callDeadlineMs = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const variant of outageVariants) {
  describe(`whole-server outage: ${frozen} of ${volumes} mounts frozen at once (${variant} FUSE daemons)`, function () {
    this.timeout(scaled(600_000, 3_600_000));
    let d: DriverProcess;
    let storage: FrozenStorage;
    const healthy: PublishedVolume[] = [];
    const hung: PublishedVolume[] = [];

    before(async () => {
      d = await startDriverProcess(
        ['--health-check-interval', `${intervalMs}ms`, '--health-check-timeout', `${timeoutMs}ms`, '--log-level', 'warn'],
        driverDirs('csi-outage-'),
        { health: true },
      );
      storage = frozenStorage(variant, d.dirs.root, d.dirs.share);
      for (let i = 0; i < volumes; i++) {
        if (i < frozen)
          hung.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `outage-hung-${i}`, { cover: (id) => storage.cover(id) }));
        else healthy.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `outage-healthy-${i}`));
      }
      const paths = mountPathsOf([...healthy, ...hung]);
      await waitFor(
        'every mount checked and healthy',
        async () => allCheckedHealthy(await mountReports(d.healthPort!), paths),
        120_000,
        250,
      );
      storage.freeze();
    });

    after(async () => {
      storage?.thaw();
      if (d) {
        await Promise.race([d.stop(), sleep(30_000)]);
        if (d.child.exitCode === null && d.child.signalCode === null) await d.kill();
      }
      await storage?.dispose();
      await stopAndClean(d);
    });

    const stats = (v: PublishedVolume) =>
      d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }, callDeadlineMs);

    it('reports every frozen mount abnormal, on the health port and in NodeGetVolumeStats', async () => {
      const paths = mountPathsOf(hung);
      const seen = await watchDetection(d.healthPort!, paths, performance.now(), detectionLimitMs);
      assert.deepEqual(
        paths.filter((p) => !seen.has(p)),
        [],
        'mounts never reported abnormal',
      );
      for (const v of hung) {
        const s = await stats(v);
        assert.equal(s.volume_condition?.abnormal, true, `${v.volumeId} is abnormal`);
        assert.match(s.volume_condition.message, /[A-Z][a-z]+[A-Z]/, 'the condition names a reason');
      }
    });

    it('creates, stages and publishes a healthy volume during the outage, and reports it healthy', async () => {
      assert.ok((await d.client.identity.Probe({}, callDeadlineMs)) !== undefined);
      const fresh = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'outage-fresh', { deadlineMs: callDeadlineMs });
      healthy.push(fresh);
      assert.deepEqual(await mountsUnder(fresh.target), [fresh.target], 'the fresh volume is published');
      await waitFor('fresh volume checked', async () => (await mountReports(d.healthPort!))[fresh.target]?.lastCheckTime, 60_000, 250);
      // A check of a healthy mount starved of CPU on a busy machine may miss its deadline once;
      // what must hold is that hung mounts do not keep healthy ones reported abnormal.
      for (const v of [healthy[0]!, fresh]) {
        const s = await waitFor(
          `${v.volumeId} reported healthy`,
          async () => {
            const r = await stats(v);
            return r.volume_condition?.abnormal === false ? r : undefined;
          },
          60_000,
          250,
        ).catch(async () => stats(v));
        assert.equal(s.volume_condition?.abnormal, false, `${v.volumeId} is healthy, not: ${s.volume_condition?.message}`);
        assert.ok(s.usage.length > 0 && Number(s.usage[0]!.total) > 0, `${v.volumeId} reports its usage`);
      }
    });

    it('tears down every hung volume, 8 at a time: calls succeed, mounts leave the mount table, records go', async () => {
      const calls = await tearDown(d.client, hung, 8, callDeadlineMs);
      assert.deepEqual(
        calls.filter((c) => c.error).map((c) => `${c.rpc} ${c.volumeId}: ${c.error}`),
        [],
      );
      assert.equal(calls.length, 2 * hung.length);
      // Every mount was known dead: each came off with one umount -f -l, none through a plain umount first.
      const metrics = await (await fetch(`http://127.0.0.1:${d.healthPort!}/metrics`)).text();
      const umounts = (op: string): number =>
        Number(
          new RegExp(`^csi_driver_mount_operations_total\\{operation="${op}",result="success"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0,
        );
      assert.deepEqual(['umount', 'umount_force', 'umount_lazy', 'umount_dead'].map(umounts), [0, 0, 0, 2 * hung.length]);
      for (const v of hung) {
        assert.deepEqual(await mountsUnder(v.staging), [], `${v.staging} is unmounted`);
        assert.deepEqual(await mountsUnder(v.target), [], `${v.target} is unmounted`);
        await expectCode(stats(v), grpc.status.NOT_FOUND);
      }
      const reports = await mountReports(d.healthPort!);
      assert.deepEqual(
        mountPathsOf(hung).filter((p) => p in reports),
        [],
        'no health record is left for a torn-down mount',
      );
      // The healthy volumes come down as usual while the storage is still frozen.
      const rest = await tearDown(d.client, healthy, 8, callDeadlineMs);
      assert.deepEqual(
        rest.filter((c) => c.error).map((c) => `${c.rpc} ${c.volumeId}: ${c.error}`),
        [],
      );
      assert.deepEqual(
        [...(await mountsUnder(`${d.dirs.root}/staging`)), ...(await mountsUnder(`${d.dirs.root}/pods`))],
        [],
        'nothing the driver mounted is left',
      );
    });

    it('stops with the storage still frozen and leaves no helper process behind', async () => {
      const below: ProcessIdentity[] = descendants(d.child.pid!)
        .map(identify)
        .filter((p): p is ProcessIdentity => p !== undefined);
      const stopped = await Promise.race([d.stop().then(() => true), sleep(60_000).then(() => false)]);
      assert.ok(stopped, 'the driver exits on SIGTERM during the outage');
      // A helper blocked in a frozen FUSE request ends when the request returns; it must at least be killed.
      const left = await waitFor(
        'helpers gone or killed',
        async () => {
          const alive = below.filter((p) => fateOf(p) === 'alive');
          return alive.length === 0 ? alive : undefined;
        },
        30_000,
        250,
      ).catch(() => below.filter((p) => fateOf(p) === 'alive'));
      assert.deepEqual(
        left.map((p) => `${p.pid} ${p.command}`),
        [],
        'helper processes left alive after the driver stopped',
      );
      storage.thaw();
      await waitFor('every helper gone after the thaw', async () => below.every((p) => fateOf(p) === 'gone'), 30_000, 250).catch(
        () => undefined,
      );
      assert.deepEqual(
        below.filter((p) => fateOf(p) !== 'gone').map((p) => `${p.pid} ${fateOf(p)} ${p.command}`),
        [],
        'processes left after the thaw',
      );
    });
  });
}
