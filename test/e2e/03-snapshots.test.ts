import { strict as assert } from 'node:assert';
import {
  describeInGuest,
  mountCap,
  readThrough,
  recordTiming,
  run,
  sharedDriver,
  workRoot,
  writeThrough,
  type E2eDriver,
} from './e2eHarness';

const MiB = 1024 ** 2;

describeInGuest('e2e snapshot and restore on NFS', function () {
  this.timeout(120_000);
  let d: E2eDriver;
  before(async function () {
    this.timeout(90_000);
    d = await sharedDriver();
  });

  /** Creates (or finds) a volume, stages and publishes it; returns its target path. */
  async function mounted(name: string, source?: { snapshot: { snapshot_id: string } }): Promise<string> {
    const res = await d.client.controller.CreateVolume({
      name,
      volume_capabilities: [mountCap],
      capacity_range: { required_bytes: MiB, limit_bytes: 0 },
      parameters: {},
      ...(source ? { volume_content_source: source } : {}),
    });
    const ctx = res.volume?.volume_context ?? {};
    const staging = `${workRoot}/staging/${name}`;
    const target = `${workRoot}/pods/snap/volumes/${name}/mount`;
    await d.client.node.NodeStageVolume({
      volume_id: name,
      staging_target_path: staging,
      volume_capability: mountCap,
      volume_context: ctx,
      publish_context: {},
      secrets: {},
    });
    await d.client.node.NodePublishVolume({
      volume_id: name,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap,
      readonly: false,
      volume_context: ctx,
      publish_context: {},
      secrets: {},
    });
    return target;
  }

  async function takeDown(name: string): Promise<void> {
    await d.client.node.NodeUnpublishVolume({ volume_id: name, target_path: `${workRoot}/pods/snap/volumes/${name}/mount` });
    await d.client.node.NodeUnstageVolume({ volume_id: name, staging_target_path: `${workRoot}/staging/${name}` });
    await d.client.controller.DeleteVolume({ volume_id: name, secrets: {} });
  }

  it('restores a snapshot into a new volume with the data as it was at snapshot time', async () => {
    const src = await mounted('pvc-e2e-snap-src');
    const original = 'before the snapshot\n';
    await writeThrough(`${src}/data.txt`, original);
    assert.equal((await run('mkdir', ['-p', `${src}/sub/dir`])).code, 0);
    await writeThrough(`${src}/sub/dir/deep.txt`, 'deep\n');
    let t0 = Date.now();
    const snap = await d.client.controller.CreateSnapshot({
      source_volume_id: 'pvc-e2e-snap-src',
      name: 'snap-e2e-restore',
      secrets: {},
      parameters: {},
    });
    recordTiming('CreateSnapshot (tar over NFS)', Date.now() - t0);
    const snapshotId = snap.snapshot?.snapshot_id ?? '';
    assert.ok(Number(snap.snapshot?.size_bytes) > 0);
    await writeThrough(`${src}/data.txt`, 'changed after the snapshot\n');

    t0 = Date.now();
    const restored = await mounted('pvc-e2e-snap-restored', { snapshot: { snapshot_id: snapshotId } });
    recordTiming('CreateVolume from snapshot + stage + publish', Date.now() - t0);
    assert.equal(await readThrough(`${restored}/data.txt`), original);
    assert.equal(await readThrough(`${restored}/sub/dir/deep.txt`), 'deep\n');
    assert.equal(await readThrough(`${src}/data.txt`), 'changed after the snapshot\n');
    const vol = await d.client.controller.ControllerGetVolume({ volume_id: 'pvc-e2e-snap-restored' });
    assert.equal(vol.volume?.content_source?.snapshot?.snapshot_id, snapshotId);

    await takeDown('pvc-e2e-snap-restored');
    await takeDown('pvc-e2e-snap-src');
    await d.client.controller.DeleteSnapshot({ snapshot_id: snapshotId, secrets: {} });
  });
});
