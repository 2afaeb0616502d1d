import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import * as path from 'node:path';
import { findMount, readMountTable } from '../../src/mount/mountTable';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, mountCap, volumeRequest, stopAndClean } from './conformanceKit';

/**
 * The calls and path layout of the upstream csi-sanity v5, for CI machines without its binary:
 * before each spec it makes --csi.mountdir and --csi.stagingdir with a plain mkdir (which fails
 * if they exist), publishes at <mountdir>/target, uses 10 GiB volumes and names with an
 * upper-case hex suffix, and afterwards unpublishes, unstages, deletes and removes both dirs.
 */
describe('conformance: csi-sanity v5 scenarios (--health-api v1.12)', () => {
  const size = 10 * GiB;
  const suffix = '-0A1B2C3D-4E5F6A7B';
  let d: DriverProcess;
  let mountdir: string;
  let stagingdir: string;
  let created: string[];
  let target: string;

  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    mountdir = path.join(d.dirs.root, 'mnt');
    stagingdir = path.join(d.dirs.root, 'stage');
    target = path.join(mountdir, 'target');
  });
  after(() => stopAndClean(d));
  beforeEach(() => {
    mkdirSync(mountdir);
    mkdirSync(stagingdir);
    created = [];
  });
  afterEach(async () => {
    const { node: n, controller: c } = d.client;
    for (const id of created) {
      await n.NodeUnpublishVolume({ volume_id: id, target_path: target });
      await n.NodeUnstageVolume({ volume_id: id, staging_target_path: stagingdir });
      await c.DeleteVolume({ volume_id: id });
    }
    rmdirSync(mountdir);
    if (existsSync(stagingdir)) rmdirSync(stagingdir);
  });

  const create = async (name: string, requiredBytes = size): Promise<string> => {
    const id = (await d.client.controller.CreateVolume(volumeRequest(name + suffix, requiredBytes))).volume!.volume_id;
    created.push(id);
    return id;
  };
  const stage = (id: string) =>
    d.client.node.NodeStageVolume({ volume_id: id, staging_target_path: stagingdir, volume_capability: mountCap(), publish_context: {} });
  const publish = (id: string) =>
    d.client.node.NodePublishVolume({ volume_id: id, staging_target_path: stagingdir, target_path: target, volume_capability: mountCap() });

  it('Node Service should be idempotent: stage and publish ten times, then stats', async () => {
    const id = await create('sanity-node-full-10');
    for (let i = 0; i < 10; i++) await stage(id);
    for (let i = 0; i < 10; i++) await publish(id);
    const stats = await d.client.node.NodeGetVolumeStats({ volume_id: id, volume_path: target });
    assert.ok(stats.usage.length > 0);
    assert.ok(findMount(await readMountTable(), target));
  });

  it('NodeUnpublishVolume should remove target path', async () => {
    const id = await create('sanity-node-unpublish-volume');
    await stage(id);
    await publish(id);
    assert.ok(existsSync(target), 'the driver made the target path');
    await d.client.node.NodeUnpublishVolume({ volume_id: id, target_path: target });
    assert.equal(existsSync(target), false, 'the driver removed the target path');
  });

  it('NodeGetVolumeStats should fail with NOT_FOUND when the volume does not exist on the specified path', async () => {
    const id = await create('sanity-node-get-volume-stats');
    await stage(id);
    await publish(id);
    await expectCode(d.client.node.NodeGetVolumeStats({ volume_id: id, volume_path: 'some/path' }), grpc.status.NOT_FOUND);
    await expectCode(
      d.client.node.NodeGetVolumeStats({ volume_id: 'fake-vol-id-0123456789', volume_path: 'some/path' }),
      grpc.status.NOT_FOUND,
    );
  });

  it('NodeExpandVolume should work if node-expand is called after node-publish', async () => {
    const id = await create('sanity-node-expand-volume');
    const expanded = await d.client.controller.ControllerExpandVolume({ volume_id: id, capacity_range: { required_bytes: size + GiB } });
    assert.equal(expanded.capacity_bytes, String(size + GiB));
    await stage(id);
    await publish(id);
    await d.client.node.NodeExpandVolume({ volume_id: id, volume_path: target, capacity_range: { required_bytes: size + GiB } });
    await expectCode(
      d.client.node.NodeExpandVolume({ volume_id: 'fake-vol-id-0123456789', volume_path: 'some/path' }),
      grpc.status.NOT_FOUND,
    );
  });

  it('NodeStageVolume should fail when no volume capability is provided', async () => {
    const id = await create('sanity-node-stage-nocaps');
    await expectCode(
      d.client.node.NodeStageVolume({ volume_id: id, staging_target_path: stagingdir, publish_context: { device: '/dev/mock' } }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(findMount(await readMountTable(), stagingdir), undefined);
  });

  it('CreateVolume: same name, capacity 10 GiB then 20 GiB (required = limit) is ALREADY_EXISTS; the first has at least 10 GiB', async () => {
    const name = 'sanity-controller-create-twice-different' + suffix;
    const first = await d.client.controller.CreateVolume(volumeRequest(name, size, size));
    created.push(first.volume!.volume_id);
    assert.ok(Number(first.volume?.capacity_bytes) >= size);
    await expectCode(d.client.controller.CreateVolume(volumeRequest(name, 2 * size, 2 * size)), grpc.status.ALREADY_EXISTS);
  });

  it('ValidateVolumeCapabilities and DeleteVolume accept the ids csi-sanity generates', async () => {
    await expectCode(
      d.client.controller.ValidateVolumeCapabilities({ volume_id: 'fake-vol-id-0123456789', volume_capabilities: [mountCap()] }),
      grpc.status.NOT_FOUND,
    );
    await d.client.controller.DeleteVolume({ volume_id: 'fake-vol-id' });
    await d.client.controller.DeleteSnapshot({ snapshot_id: 'reallyfakesnapshotid' });
  });
});
