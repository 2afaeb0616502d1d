import { strict as assert } from 'node:assert';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { getJson, waitFor } from '../helpers/bindfs';
import { createAndPublish, mountCap } from '../helpers/publish';

async function post(port: number, p: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('fault injection (the reference-driver role)', function () {
  this.timeout(60_000);
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-check-interval', '1s', '--health-check-timeout', '500ms'], undefined, {
      health: true,
      faults: true,
    });
  });
  after(async () => stopAndClean(d));

  it('sets a v1.13 condition that every surface shows as injected, and clears it', async () => {
    const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-injected');
    const r = await post(d.faultPort!, `/faults/volumes/${v.volumeId}/condition`, {
      status: 'DATA_LOSS',
      reason: 'DiskEaten',
      message: 'a test said so',
    });
    assert.equal(r.status, 200);
    const h = await d.client.node.NodeGetVolumeHealth({ volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' });
    assert.deepEqual(
      h.volume_health?.health_statuses.map((x) => [x.status, x.reason, x.message]),
      [['DATA_LOSS', 'DiskEaten', 'a test said so']],
    );
    const stats = await d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' });
    assert.equal(stats.volume_condition?.abnormal, true);
    assert.match(stats.volume_condition.message, /DiskEaten: a test said so/);
    const ctl = await d.client.controller.ControllerGetVolume({ volume_id: v.volumeId });
    assert.equal(ctl.status?.volume_condition?.abnormal, true);
    const mounts = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<string, { injected: boolean; reasons: string[] }>;
    assert.equal(mounts[v.target]?.injected, true);
    assert.deepEqual(mounts[v.target]?.reasons, ['DiskEaten']);
    const metrics = await (await fetch(`http://127.0.0.1:${d.healthPort}/metrics`)).text();
    assert.match(metrics, /csi_driver_volume_injected_fault\{volume_id="pvc-injected",reason="DiskEaten"\} 1/);
    assert.equal((await getJson(d.healthPort!, '/healthz/ready')).status, 503);

    const del = await fetch(`http://127.0.0.1:${d.faultPort}/faults/volumes/${v.volumeId}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const healed = await d.client.node.NodeGetVolumeHealth({
      volume_id: v.volumeId,
      volume_publish_path: v.target,
      staging_target_path: '',
    });
    assert.deepEqual(healed.volume_health?.health_statuses, []);
  });

  it('sets a v1.12 abnormal condition with a message and lets it expire after its duration', async () => {
    const { volume } = await d.client.controller.CreateVolume({ name: 'pvc-expiring', volume_capabilities: [mountCap] });
    await post(d.faultPort!, `/faults/volumes/${volume!.volume_id}/condition`, {
      abnormal: true,
      message: 'short outage',
      duration: '1500ms',
    });
    const now = await d.client.controller.ControllerGetVolume({ volume_id: volume!.volume_id });
    assert.equal(now.status?.volume_condition?.abnormal, true);
    await waitFor(
      'expiry',
      async () =>
        (await d.client.controller.ControllerGetVolume({ volume_id: volume!.volume_id })).status?.volume_condition?.abnormal === false,
      10_000,
    );
  });

  it('adds probe latency beyond the timeout, which the monitor reports as MountUnresponsive', async () => {
    const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-slow');
    await post(d.faultPort!, `/faults/volumes/${v.volumeId}/latency`, { latency: '2s', duration: '30s' });
    const h = await waitFor(
      'MountUnresponsive',
      async () => {
        const r = await d.client.node.NodeGetVolumeHealth({
          volume_id: v.volumeId,
          volume_publish_path: v.target,
          staging_target_path: '',
        });
        return r.volume_health?.health_statuses.find((x) => x.reason === 'MountUnresponsive');
      },
      15_000,
    );
    assert.equal(h.status, 'INACCESSIBLE');
    await fetch(`http://127.0.0.1:${d.faultPort}/faults`, { method: 'DELETE' });
  });

  it('fails the next N stage calls, then lets them through; NodeGetVolumeHealth says why the volume is not usable', async () => {
    const { volume } = await d.client.controller.CreateVolume({ name: 'pvc-stage-fails', volume_capabilities: [mountCap] });
    const id = volume!.volume_id;
    assert.equal((await post(d.faultPort!, '/faults/fail-next', { operation: 'stage', count: 2, message: 'storage said no' })).status, 200);
    const staging = `${d.dirs.root}/staging/${id}`;
    const req = { volume_id: id, staging_target_path: staging, volume_capability: mountCap, volume_context: volume!.volume_context };
    const e = await expectCode(d.client.node.NodeStageVolume(req), grpc.status.UNAVAILABLE);
    assert.match(e.details, /storage said no/);
    const h = await d.client.node.NodeGetVolumeHealth({ volume_id: id, volume_publish_path: '', staging_target_path: '' });
    assert.deepEqual(
      h.volume_health?.health_statuses.map((x) => [x.status, x.reason]),
      [['INACCESSIBLE', 'StageFailed']],
    );
    await expectCode(d.client.node.NodeStageVolume(req), grpc.status.UNAVAILABLE);
    await d.client.node.NodeStageVolume(req);
    const ok = await d.client.node.NodeGetVolumeHealth({ volume_id: id, volume_publish_path: '', staging_target_path: staging });
    assert.ok(!ok.volume_health?.health_statuses.some((x) => x.reason === 'StageFailed'));
    await d.client.node.NodeUnstageVolume({ volume_id: id, staging_target_path: staging });
  });

  it('rejects malformed fault requests with 400 and changes nothing', async () => {
    const before = await (await fetch(`http://127.0.0.1:${d.faultPort}/faults`)).json();
    assert.equal((await post(d.faultPort!, '/faults/volumes/x/condition', { status: 'BROKEN' })).status, 400);
    assert.equal((await post(d.faultPort!, '/faults/volumes/x/latency', { latency: 'soon' })).status, 400);
    assert.equal((await post(d.faultPort!, '/faults/fail-next', { operation: 'format' })).status, 400);
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${d.faultPort}/faults`)).json(), before);
  });
});

describe('without --enable-fault-injection', () => {
  it('serves no fault routes at all', async () => {
    const d = await startDriverProcess([], undefined, { health: true });
    try {
      const res = await fetch(`http://127.0.0.1:${d.healthPort}/faults`);
      assert.equal(res.status, 404);
      assert.doesNotMatch(d.logText(), /fault/i);
    } finally {
      await d.stop();
    }
  });
});
