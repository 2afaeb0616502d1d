import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, listTree, mountCap, stopAndClean, unmountLeftovers, volumeRequest } from './conformanceKit';

interface SavedMount {
  volumeId: string;
  path: string;
  kind: string;
  intervalMs?: number;
  timeoutMs?: number;
}

describe('conformance: ControllerModifyVolume and per-volume health schedules', () => {
  let d: DriverProcess;
  let volumeId: string;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-modify', GiB);
  });
  after(async () => {
    await unmountLeftovers(d.dirs.root);
    await stopAndClean(d);
  });
  const c = () => d.client.controller;
  const mutableFile = (id: string) => path.join(d.dirs.share, 'volumes', id, 'mutable.json');
  const savedMounts = (): SavedMount[] => JSON.parse(readFileSync(path.join(d.dirs.state, 'node-mounts.json'), 'utf8')) as SavedMount[];

  it('advertises MODIFY_VOLUME', async () => {
    const caps = await c().ControllerGetCapabilities({});
    assert.ok(caps.capabilities.some((x) => x.rpc?.type === 'MODIFY_VOLUME'));
  });

  it('CreateVolume honours mutable_parameters: recorded, and in the volume context', async () => {
    const res = await c().CreateVolume({
      ...volumeRequest('pvc-created-mutable', GiB),
      mutable_parameters: { healthCheckInterval: '10s' },
    });
    const v = res.volume!;
    assert.equal(v.volume_context?.healthCheckInterval, '10s');
    const rec = JSON.parse(readFileSync(path.join(d.dirs.share, 'volumes', v.volume_id, 'volume.json'), 'utf8')) as {
      parameters: Record<string, string>;
    };
    assert.equal(rec.parameters.healthCheckInterval, '10s');
    // Retried with the same arguments: the same volume.
    const again = await c().CreateVolume({
      ...volumeRequest('pvc-created-mutable', GiB),
      mutable_parameters: { healthCheckInterval: '10s' },
    });
    assert.equal(again.volume?.volume_id, v.volume_id);
  });

  it('CreateVolume refuses unknown or malformed mutable_parameters (INVALID_ARGUMENT), making nothing', async () => {
    const tree = listTree(d.dirs.share);
    await expectCode(
      c().CreateVolume({ ...volumeRequest('pvc-bad-mutable'), mutable_parameters: { iops: '100' } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      c().CreateVolume({ ...volumeRequest('pvc-bad-mutable'), mutable_parameters: { healthCheckInterval: 'soon' } }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('records the new parameters and keeps the volume context fixed', async () => {
    const before = await c().ControllerGetVolume({ volume_id: volumeId });
    await c().ControllerModifyVolume({ volume_id: volumeId, mutable_parameters: { healthCheckInterval: '20s', healthCheckTimeout: '2s' } });
    assert.deepEqual(JSON.parse(readFileSync(mutableFile(volumeId), 'utf8')), { healthCheckInterval: '20s', healthCheckTimeout: '2s' });
    const after = await c().ControllerGetVolume({ volume_id: volumeId });
    assert.deepEqual(after.volume?.volume_context, before.volume?.volume_context);
    // Idempotent: the same change again is OK and changes nothing.
    await c().ControllerModifyVolume({ volume_id: volumeId, mutable_parameters: { healthCheckInterval: '20s' } });
    assert.deepEqual(JSON.parse(readFileSync(mutableFile(volumeId), 'utf8')), { healthCheckInterval: '20s', healthCheckTimeout: '2s' });
  });

  const refused: Array<[string, Record<string, string>]> = [
    ['an unknown key', { iops: '100' }],
    ['a provisioner key', { 'csi.storage.k8s.io/pvc/name': 'x' }],
    ['a malformed duration', { healthCheckInterval: 'ten seconds' }],
    ['an interval below 5s', { healthCheckInterval: '1s' }],
    ['an interval above 24h', { healthCheckInterval: '25h' }],
    ['a timeout not shorter than the interval', { healthCheckTimeout: '20s' }],
    ['mount options outside the allowlist', { mountOptions: 'hard,exec=/bin/sh' }],
    ['no parameters at all', {}],
  ];
  for (const [what, params] of refused) {
    it(`returns INVALID_ARGUMENT for ${what}, and changes nothing`, async () => {
      const before = readFileSync(mutableFile(volumeId), 'utf8');
      await expectCode(c().ControllerModifyVolume({ volume_id: volumeId, mutable_parameters: params }), grpc.status.INVALID_ARGUMENT);
      assert.equal(readFileSync(mutableFile(volumeId), 'utf8'), before);
    });
  }

  it('returns INVALID_ARGUMENT without a volume id and NOT_FOUND for an unknown volume, writing nothing', async () => {
    await expectCode(
      c().ControllerModifyVolume({ volume_id: '', mutable_parameters: { healthCheckInterval: '10s' } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      c().ControllerModifyVolume({ volume_id: 'no-such-volume', mutable_parameters: { healthCheckInterval: '10s' } }),
      grpc.status.NOT_FOUND,
    );
    assert.equal(existsSync(path.join(d.dirs.share, 'volumes', 'no-such-volume')), false);
  });

  it("the node monitors the volume's mounts on its modified schedule, staged after the change", async () => {
    const vol = await c().ControllerGetVolume({ volume_id: volumeId });
    const staging = path.join(d.dirs.root, 'staging', volumeId);
    const target = path.join(d.dirs.root, 'pods', volumeId, 'mount');
    await d.client.node.NodeStageVolume({
      volume_id: volumeId,
      staging_target_path: staging,
      volume_capability: mountCap(),
      volume_context: vol.volume!.volume_context,
    });
    await d.client.node.NodePublishVolume({
      volume_id: volumeId,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap(),
      volume_context: vol.volume!.volume_context,
    });
    const mine = savedMounts().filter((m) => m.volumeId === volumeId);
    assert.equal(mine.length, 2);
    for (const m of mine) {
      assert.equal(m.intervalMs, 20_000, `${m.kind} mount keeps the volume's interval`);
      assert.equal(m.timeoutMs, 2_000, `${m.kind} mount keeps the volume's timeout`);
    }
    // Another change reaches the mounts at the next stage.
    await c().ControllerModifyVolume({ volume_id: volumeId, mutable_parameters: { healthCheckInterval: '40s' } });
    await d.client.node.NodeStageVolume({
      volume_id: volumeId,
      staging_target_path: staging,
      volume_capability: mountCap(),
      volume_context: vol.volume!.volume_context,
    });
    assert.equal(savedMounts().find((m) => m.path === staging)?.intervalMs, 40_000);
    await d.client.node.NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    await d.client.node.NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
  });

  it('a volume without its own schedule is monitored on the node defaults', async () => {
    const id = await createVolume(d.client, 'pvc-default-schedule', GiB);
    const vol = await c().ControllerGetVolume({ volume_id: id });
    const staging = path.join(d.dirs.root, 'staging', id);
    await d.client.node.NodeStageVolume({
      volume_id: id,
      staging_target_path: staging,
      volume_capability: mountCap(),
      volume_context: vol.volume!.volume_context,
    });
    const m = savedMounts().find((x) => x.path === staging);
    assert.ok(m);
    assert.equal(m.intervalMs, undefined);
    assert.equal(m.timeoutMs, undefined);
    await d.client.node.NodeUnstageVolume({ volume_id: id, staging_target_path: staging });
  });

  it('refuses a hostile schedule in the volume context at stage (INVALID_ARGUMENT), mounting nothing', async () => {
    const id = await createVolume(d.client, 'pvc-hostile-context', GiB);
    const vol = await c().ControllerGetVolume({ volume_id: id });
    const staging = path.join(d.dirs.root, 'staging', id);
    await expectCode(
      d.client.node.NodeStageVolume({
        volume_id: id,
        staging_target_path: staging,
        volume_capability: mountCap(),
        volume_context: { ...vol.volume!.volume_context, healthCheckInterval: '1ms' },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(existsSync(staging), false);
  });
});
