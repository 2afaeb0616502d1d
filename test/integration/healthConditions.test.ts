import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stopAndClean } from '../helpers/cleanup';
import { driverDirs, startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { getJson, waitFor } from '../helpers/bindfs';
import { createAndPublish } from '../helpers/publish';
import { expectCode, grpc } from '../helpers/csiClient';

const fastChecks = ['--health-check-interval', '1s', '--health-check-timeout', '500ms'];
const bound = 15_000;

describe('health conditions seen by the controller and the node', function () {
  this.timeout(120_000);

  describe('on a normal share', () => {
    let d: DriverProcess;
    before(async () => {
      d = await startDriverProcess(fastChecks, undefined, { health: true });
    });
    after(async () => stopAndClean(d));

    it('reports a volume whose directory was removed behind its back as VolumeNotFound (ControllerGetVolume, ListVolumes, ControllerGetVolumeHealth)', async () => {
      const { volume } = await d.client.controller.CreateVolume({
        name: 'pvc-vanishing',
        volume_capabilities: [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} }],
      });
      const id = volume!.volume_id;
      const ok = await d.client.controller.ControllerGetVolume({ volume_id: id });
      assert.equal(ok.status?.volume_condition?.abnormal, false);
      rmSync(path.join(d.dirs.share, 'volumes', id), { recursive: true });
      const got = await d.client.controller.ControllerGetVolume({ volume_id: id });
      assert.equal(got.status?.volume_condition?.abnormal, true);
      assert.match(got.status.volume_condition.message, /VolumeNotFound/);
      const list = await d.client.controller.ListVolumes({});
      const entry = list.entries.find((e) => e.volume?.volume_id === id);
      assert.equal(entry?.status?.volume_condition?.abnormal, true);
      const h = await d.client.controller.ControllerGetVolumeHealth({ volume_id: id });
      assert.deepEqual(
        h.volume_health?.health_statuses.map((x) => [x.status, x.reason]),
        [['INACCESSIBLE', 'VolumeNotFound']],
      );
      const sick = await d.client.controller.ControllerListVolumeHealth({});
      assert.deepEqual(
        sick.entries.map((e) => e.volume_id),
        [id],
        'only volumes with a condition are listed',
      );
    });

    it('reports a published volume whose directory was deleted on the share as VolumeNotFound on the node too', async () => {
      const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-deleted-under-mount');
      rmSync(path.join(d.dirs.share, 'volumes', v.volumeId), { recursive: true });
      const reasons = async (): Promise<string[]> =>
        (
          (await d.client.node.NodeGetVolumeHealth({ volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' }))
            .volume_health?.health_statuses ?? []
        ).map((x) => `${x.status}/${x.reason}`);
      await waitFor('VolumeNotFound on the node', async () => (await reasons()).includes('INACCESSIBLE/VolumeNotFound'), bound);
      const stats = await d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' });
      assert.equal(stats.volume_condition?.abnormal, true);
      assert.match(stats.volume_condition.message, /VolumeNotFound/);
      await d.client.node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target });
      await d.client.node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging });
    });

    it('watches published volumes again after a restart, without any new publish call', async () => {
      const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-survivor');
      await d.kill();
      d = await startDriverProcess(fastChecks, d.dirs, { health: true });
      // Checked again and healthy (on a busy machine a 500 ms probe may overstay once first).
      const mounts = await waitFor(
        'a healthy check after restart',
        async () => {
          const m = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<
            string,
            { lastCheckTime: string | null; state: string }
          >;
          return m[v.target]?.state === 'healthy' && m[v.staging]?.lastCheckTime ? m : undefined;
        },
        bound,
      );
      assert.ok(mounts[v.target]?.lastCheckTime, 'the published volume was checked by the restarted driver');
      const stats = await d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' });
      assert.equal(stats.volume_condition?.abnormal, false);
      await d.client.node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target });
      await d.client.node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging });
    });
  });

  describe('on a small tmpfs share', () => {
    let d: DriverProcess;
    let tmpfs: string;
    before(async () => {
      const dirs = driverDirs();
      tmpfs = dirs.share;
      mkdirSync(tmpfs, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'csi-test-small', tmpfs]);
      d = await startDriverProcess(fastChecks, dirs, { health: true });
    });
    after(async () => {
      execFileSync('mount', ['-o', 'remount,rw', tmpfs]);
      await stopAndClean(d);
    });

    it('reports a full share as NoSpace (DEGRADED) on the node and the controller, and a read-only share as ReadOnlyFilesystem', async () => {
      const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-full');
      await waitFor(
        'healthy first',
        async () => {
          const h = await d.client.node.NodeGetVolumeHealth({
            volume_id: v.volumeId,
            volume_publish_path: v.target,
            staging_target_path: '',
          });
          return (await getJson(d.healthPort!, '/healthz/mounts')).body && h.volume_health?.health_statuses.length === 0;
        },
        bound,
      );
      try {
        writeFileSync(path.join(v.target, 'filler'), Buffer.alloc(8 * 1024 * 1024));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      const node = await waitFor(
        'NoSpace on the node',
        async () => {
          const h = await d.client.node.NodeGetVolumeHealth({
            volume_id: v.volumeId,
            volume_publish_path: v.target,
            staging_target_path: '',
          });
          return h.volume_health?.health_statuses.find((x) => x.reason === 'NoSpace');
        },
        bound,
      );
      assert.equal(node.status, 'DEGRADED');
      const ctl = await d.client.controller.ControllerGetVolumeHealth({ volume_id: v.volumeId });
      assert.ok(ctl.volume_health?.health_statuses.some((x) => x.status === 'DEGRADED' && x.reason === 'NoSpace'));
      const storage = await waitFor(
        'share degraded as seen from the node',
        async () => {
          const s = await d.client.node.NodeGetStorageHealth({});
          return s.backend_health.find((b) => b.status === 'STORAGE_DEGRADED');
        },
        bound,
      );
      assert.equal(storage.reason, 'NoSpace');

      rmSync(path.join(v.target, 'filler'));
      execFileSync('mount', ['-o', 'remount,ro', tmpfs]);
      const ro = await waitFor(
        'ReadOnlyFilesystem',
        async () => {
          const h = await d.client.node.NodeGetVolumeHealth({
            volume_id: v.volumeId,
            volume_publish_path: v.target,
            staging_target_path: '',
          });
          return h.volume_health?.health_statuses.find((x) => x.reason === 'ReadOnlyFilesystem');
        },
        bound,
      );
      assert.equal(ro.status, 'DEGRADED');
      execFileSync('mount', ['-o', 'remount,rw', tmpfs]);
    });
  });
});

describe('a share that stops answering (bindfs under --local-dir, frozen)', function () {
  this.timeout(120_000);
  let d: DriverProcess;
  let fuse: import('../helpers/bindfs').BindfsMount;

  before(async () => {
    const dirs = driverDirs();
    const { mountBindfs } = await import('../helpers/bindfs');
    fuse = await mountBindfs(path.join(dirs.root, 'backing'), dirs.share);
    d = await startDriverProcess(fastChecks, dirs, { health: true });
  });
  after(async () => {
    await fuse?.dispose();
    await stopAndClean(d);
  });

  it('answers ControllerGetVolume and ControllerGetVolumeHealth with ShareUnreachable instead of hanging, and refuses changes with UNAVAILABLE', async () => {
    const { volume } = await d.client.controller.CreateVolume({
      name: 'pvc-on-frozen-share',
      volume_capabilities: [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} }],
    });
    const id = volume!.volume_id;
    fuse.freeze();
    try {
      const got = await d.client.controller.ControllerGetVolume({ volume_id: id }, 30_000);
      assert.equal(got.status?.volume_condition?.abnormal, true);
      assert.match(got.status.volume_condition.message, /ShareUnreachable/);
      const h = await d.client.controller.ControllerGetVolumeHealth({ volume_id: id }, 30_000);
      assert.deepEqual(
        h.volume_health?.health_statuses.map((x) => [x.status, x.reason]),
        [['INACCESSIBLE', 'ShareUnreachable']],
      );
      await expectCode(
        d.client.controller.CreateVolume(
          { name: 'pvc-not-now', volume_capabilities: [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: {} }] },
          30_000,
        ),
        grpc.status.UNAVAILABLE,
      );
      const storage = await waitFor(
        'share unreachable from the node',
        async () => {
          const s = await d.client.node.NodeGetStorageHealth({}, 5000);
          return s.backend_health.find((b) => b.status === 'STORAGE_UNREACHABLE');
        },
        bound,
      );
      assert.equal(storage.reason, 'ShareUnresponsive');
      assert.equal((await d.client.identity.Probe({}, 5000)).ready?.value, true, 'Probe stays ready: a restart cures no storage outage');
    } finally {
      fuse.thaw();
    }
  });
});
