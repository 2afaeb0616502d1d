import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expectCode, grpc } from '../helpers/csiClient';
import {
  describeInGuest,
  mountCap,
  readThrough,
  run,
  sharedDriver,
  startNfsDriver,
  workRoot,
  writeThrough,
  type E2eDriver,
} from './e2eHarness';

const MiB = 1024 ** 2;

interface SavedMount {
  volumeId: string;
  path: string;
  intervalMs?: number;
  timeoutMs?: number;
}

describeInGuest('e2e group snapshots, ControllerModifyVolume and attach on NFS', function () {
  this.timeout(180_000);
  let d: E2eDriver;
  before(async function () {
    this.timeout(90_000);
    d = await sharedDriver();
  });
  const c = () => d.client.controller;

  async function create(
    name: string,
    extra: { mutable_parameters?: Record<string, string>; volume_content_source?: { snapshot: { snapshot_id: string } } } = {},
    drv = d,
  ) {
    const res = await drv.client.controller.CreateVolume({
      name,
      volume_capabilities: [mountCap],
      capacity_range: { required_bytes: MiB, limit_bytes: 0 },
      parameters: {},
      ...extra,
    });
    return res.volume!;
  }
  async function stageAndPublish(drv: E2eDriver, id: string, ctx: Record<string, string>, publishContext: Record<string, string> = {}) {
    const staging = `${workRoot}/staging/${id}`;
    const target = `${workRoot}/pods/ref/volumes/${id}/mount`;
    await drv.client.node.NodeStageVolume({
      volume_id: id,
      staging_target_path: staging,
      volume_capability: mountCap,
      volume_context: ctx,
      publish_context: publishContext,
      secrets: {},
    });
    await drv.client.node.NodePublishVolume({
      volume_id: id,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap,
      readonly: false,
      volume_context: ctx,
      publish_context: publishContext,
      secrets: {},
    });
    return { staging, target };
  }
  async function takeDown(drv: E2eDriver, id: string) {
    await drv.client.node.NodeUnpublishVolume({ volume_id: id, target_path: `${workRoot}/pods/ref/volumes/${id}/mount` });
    await drv.client.node.NodeUnstageVolume({ volume_id: id, staging_target_path: `${workRoot}/staging/${id}` });
  }

  it('snapshots two volumes as a group and restores each member with its own data', async () => {
    const a = await create('pvc-e2e-group-a');
    const b = await create('pvc-e2e-group-b');
    const ma = await stageAndPublish(d, a.volume_id, a.volume_context);
    const mb = await stageAndPublish(d, b.volume_id, b.volume_context);
    await writeThrough(`${ma.target}/a.txt`, 'volume a\n');
    await writeThrough(`${mb.target}/b.txt`, 'volume b\n');
    const gs = (
      await d.client.group.CreateVolumeGroupSnapshot({
        name: 'group-e2e',
        source_volume_ids: [a.volume_id, b.volume_id],
        secrets: {},
        parameters: {},
      })
    ).group_snapshot!;
    assert.equal(gs.ready_to_use, true);
    assert.equal(gs.snapshots.length, 2);
    const again = (await d.client.group.GetVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id })).group_snapshot!;
    assert.deepEqual(again.snapshots.map((s) => s.snapshot_id).sort(), gs.snapshots.map((s) => s.snapshot_id).sort());
    const memberOfA = gs.snapshots.find((s) => s.source_volume_id === a.volume_id)!;
    await expectCode(c().DeleteSnapshot({ snapshot_id: memberOfA.snapshot_id, secrets: {} }), grpc.status.FAILED_PRECONDITION);
    const restored = await create('pvc-e2e-group-restored', {
      volume_content_source: { snapshot: { snapshot_id: memberOfA.snapshot_id } },
    });
    const mr = await stageAndPublish(d, restored.volume_id, restored.volume_context);
    assert.equal(await readThrough(`${mr.target}/a.txt`), 'volume a\n');
    await takeDown(d, restored.volume_id);
    await d.client.group.DeleteVolumeGroupSnapshot({
      group_snapshot_id: gs.group_snapshot_id,
      snapshot_ids: gs.snapshots.map((s) => s.snapshot_id),
      secrets: {},
    });
    await expectCode(c().GetSnapshot({ snapshot_id: memberOfA.snapshot_id, secrets: {} }), grpc.status.NOT_FOUND);
    await d.client.group.DeleteVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id, snapshot_ids: [], secrets: {} });
    for (const v of [a, b]) await takeDown(d, v.volume_id);
    for (const v of [restored, a, b]) await c().DeleteVolume({ volume_id: v.volume_id, secrets: {} });
  });

  it('monitors an NFS mount on the schedule given at creation, and validates ControllerModifyVolume', async () => {
    const v = await create('pvc-e2e-mutable', { mutable_parameters: { healthCheckInterval: '5s', healthCheckTimeout: '1s' } });
    const m = await stageAndPublish(d, v.volume_id, v.volume_context);
    const saved = JSON.parse(readFileSync(path.join(workRoot, 'state', 'node-mounts.json'), 'utf8')) as SavedMount[];
    for (const p of [m.staging, m.target]) {
      const rec = saved.find((x) => x.path === p);
      assert.equal(rec?.intervalMs, 5_000, p);
      assert.equal(rec?.timeoutMs, 1_000, p);
    }
    await c().ControllerModifyVolume({ volume_id: v.volume_id, mutable_parameters: { healthCheckInterval: '10s' }, secrets: {} });
    await expectCode(
      c().ControllerModifyVolume({ volume_id: v.volume_id, mutable_parameters: { iops: '1' }, secrets: {} }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      c().ControllerModifyVolume({ volume_id: 'pvc-e2e-nothing', mutable_parameters: { healthCheckInterval: '10s' }, secrets: {} }),
      grpc.status.NOT_FOUND,
    );
    await takeDown(d, v.volume_id);
    await c().DeleteVolume({ volume_id: v.volume_id, secrets: {} });
  });

  describe('with --enable-attach', () => {
    let att: E2eDriver;
    before(async function () {
      this.timeout(240_000);
      att = await startNfsDriver('attach', ['--enable-attach', '--max-volumes-per-node', '2']);
    });
    after(async function () {
      this.timeout(60_000);
      await att?.stop();
    });

    it('attaches with a durable record, stages only with its publish context and applies modified mount options', async () => {
      const v = await create('pvc-e2e-attach', {}, att);
      const ctl = att.client.controller;
      const staging = `${workRoot}/staging/${v.volume_id}`;
      await expectCode(
        att.client.node.NodeStageVolume({
          volume_id: v.volume_id,
          staging_target_path: staging,
          volume_capability: mountCap,
          volume_context: v.volume_context,
          publish_context: {},
          secrets: {},
        }),
        grpc.status.FAILED_PRECONDITION,
      );
      await expectCode(
        ctl.ControllerPublishVolume({ volume_id: v.volume_id, node_id: 'some-fake-node-id', volume_capability: mountCap, readonly: false }),
        grpc.status.NOT_FOUND,
      );
      await ctl.ControllerModifyVolume({ volume_id: v.volume_id, mutable_parameters: { mountOptions: 'noatime' }, secrets: {} });
      const pub = await ctl.ControllerPublishVolume({
        volume_id: v.volume_id,
        node_id: 'node-attach',
        volume_capability: mountCap,
        readonly: false,
      });
      assert.equal(pub.publish_context.mountOptions, 'noatime');
      const m = await stageAndPublish(att, v.volume_id, v.volume_context, pub.publish_context);
      assert.match((await run('findmnt', ['-n', '-o', 'OPTIONS', m.staging])).stdout, /noatime/);
      await expectCode(ctl.DeleteVolume({ volume_id: v.volume_id, secrets: {} }), grpc.status.FAILED_PRECONDITION);
      await takeDown(att, v.volume_id);
      await ctl.ControllerUnpublishVolume({ volume_id: v.volume_id, node_id: 'node-attach' });
      await ctl.DeleteVolume({ volume_id: v.volume_id, secrets: {} });
    });

    it('refuses an attach beyond --max-volumes-per-node with RESOURCE_EXHAUSTED', async () => {
      const ctl = att.client.controller;
      const ids: string[] = [];
      for (const n of ['pvc-e2e-limit-1', 'pvc-e2e-limit-2', 'pvc-e2e-limit-3']) ids.push((await create(n, {}, att)).volume_id);
      await ctl.ControllerPublishVolume({ volume_id: ids[0]!, node_id: 'node-attach', volume_capability: mountCap, readonly: false });
      await ctl.ControllerPublishVolume({ volume_id: ids[1]!, node_id: 'node-attach', volume_capability: mountCap, readonly: false });
      await expectCode(
        ctl.ControllerPublishVolume({ volume_id: ids[2]!, node_id: 'node-attach', volume_capability: mountCap, readonly: false }),
        grpc.status.RESOURCE_EXHAUSTED,
      );
      for (const id of ids) {
        await ctl.ControllerUnpublishVolume({ volume_id: id, node_id: '' });
        await ctl.DeleteVolume({ volume_id: id, secrets: {} });
      }
    });
  });
});
