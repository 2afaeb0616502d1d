import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findMount, readMountTable } from '../../src/mount/mountTable';
import type { NodeGetVolumeStatsResponse__Output } from '../../src/gen/csi/v1/NodeGetVolumeStatsResponse';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, mountCap, mountPoints, stopAndClean } from './conformanceKit';

function assertUsage(stats: NodeGetVolumeStatsResponse__Output): void {
  const bytes = stats.usage.find((u) => u.unit === 'BYTES');
  const inodes = stats.usage.find((u) => u.unit === 'INODES');
  assert.ok(bytes && Number(bytes.total) > 0 && Number(bytes.available) >= 0 && Number(bytes.used) >= 0, 'byte usage');
  assert.ok(inodes && Number(inodes.total) > 0, 'inode usage');
}

describe('conformance: Node stage, publish, stats and tear-down (--health-api v1.12)', () => {
  let d: DriverProcess;
  let volumeId: string;
  let kubelet: string;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-node-life', GiB);
    kubelet = path.join(d.dirs.root, 'kubelet');
  });
  after(() => stopAndClean(d));
  const n = () => d.client.node;
  const stagingOf = (name: string) => path.join(kubelet, 'staging', name);
  const targetOf = (name: string) => path.join(kubelet, 'pods', name, 'mount');
  const stage = (staging: string, id = volumeId) =>
    n().NodeStageVolume({ volume_id: id, staging_target_path: staging, volume_capability: mountCap() });
  const publish = (staging: string, target: string, readonly = false, id = volumeId) =>
    n().NodePublishVolume({ volume_id: id, staging_target_path: staging, target_path: target, volume_capability: mountCap(), readonly });

  it('NodeGetInfo returns the node id and a non-negative volume limit', async () => {
    const info = await n().NodeGetInfo({});
    assert.equal(info.node_id, 'node-1');
    assert.ok(Number(info.max_volumes_per_node) >= 0);
  });

  it('stages, publishes, reports stats, unpublishes and unstages, with the mount table to match', async () => {
    const staging = stagingOf('life');
    const target = targetOf('life');
    await stage(staging);
    const staged = findMount(await readMountTable(), staging);
    assert.ok(staged, 'staging path is a mount point');
    assert.ok(staged.root.endsWith(`/volumes/${volumeId}/data`), `staging binds the volume's data directory (root ${staged.root})`);

    await publish(staging, target);
    const published = findMount(await readMountTable(), target);
    assert.ok(published, 'target path is a mount point');
    assert.equal(published.root, staged.root);
    assert.ok(published.options.includes('rw'));
    writeFileSync(path.join(target, 'written-through-target.txt'), 'pod data');
    assert.equal(readFileSync(path.join(d.dirs.share, 'volumes', volumeId, 'data', 'written-through-target.txt'), 'utf8'), 'pod data');

    const stats = await n().NodeGetVolumeStats({ volume_id: volumeId, volume_path: target });
    assertUsage(stats);
    assert.ok(stats.volume_condition, 'volume_condition present in v1.12 mode');
    assert.equal(stats.volume_condition.abnormal, false);
    assertUsage(await n().NodeGetVolumeStats({ volume_id: volumeId, volume_path: staging }));

    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    let table = await readMountTable();
    assert.equal(findMount(table, target), undefined, 'target unmounted');
    assert.equal(existsSync(target), false, 'target directory removed');
    assert.ok(findMount(table, staging), 'staging still mounted after unpublish');

    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
    table = await readMountTable();
    assert.equal(findMount(table, staging), undefined, 'staging unmounted');
    assert.ok(existsSync(path.join(d.dirs.share, 'volumes', volumeId, 'data', 'written-through-target.txt')), 'data stays on the share');
  });

  it('repeats each step idempotently, without stacking mounts', async () => {
    const staging = stagingOf('again');
    const target = targetOf('again');
    for (let i = 0; i < 3; i++) await stage(staging);
    for (let i = 0; i < 3; i++) await publish(staging, target);
    const points = await mountPoints();
    assert.equal(points.filter((p) => p === staging).length, 1, 'one mount at the staging path');
    assert.equal(points.filter((p) => p === target).length, 1, 'one mount at the target path');
    for (let i = 0; i < 2; i++) await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    for (let i = 0; i < 2; i++) await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
    const after = await mountPoints();
    assert.equal(after.includes(staging) || after.includes(target), false);
  });

  it('publishes read-only when asked: writing through the target fails with EROFS', async () => {
    const staging = stagingOf('ro');
    const target = targetOf('ro');
    await stage(staging);
    await publish(staging, target, true);
    const entry = findMount(await readMountTable(), target);
    assert.ok(entry?.options.includes('ro'), `mounted read-only (options ${entry?.options.join(',')})`);
    assert.throws(
      () => writeFileSync(path.join(target, 'nope.txt'), 'x'),
      (err: NodeJS.ErrnoException) => err.code === 'EROFS',
    );
    await expectCode(publish(staging, target, false), grpc.status.ALREADY_EXISTS);
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
  });

  it('publishes read-only for a reader-only access mode', async () => {
    const staging = stagingOf('reader');
    const target = targetOf('reader');
    await stage(staging);
    await n().NodePublishVolume({
      volume_id: volumeId,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap('MULTI_NODE_READER_ONLY'),
    });
    assert.throws(
      () => writeFileSync(path.join(target, 'nope.txt'), 'x'),
      (err: NodeJS.ErrnoException) => err.code === 'EROFS',
    );
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
  });

  it('returns FAILED_PRECONDITION for a publish without staging, and mounts nothing', async () => {
    const staging = stagingOf('never-staged');
    const target = targetOf('unstaged');
    await expectCode(publish(staging, target), grpc.status.FAILED_PRECONDITION);
    assert.equal(findMount(await readMountTable(), target), undefined);
    assert.equal(existsSync(target), false, 'no target directory made');
  });

  it('returns NOT_FOUND from NodeGetVolumeStats for a path that is not a mount of the volume', async () => {
    await expectCode(n().NodeGetVolumeStats({ volume_id: volumeId, volume_path: targetOf('nothing-here') }), grpc.status.NOT_FOUND);
    await expectCode(n().NodeGetVolumeStats({ volume_id: volumeId, volume_path: 'some/path' }), grpc.status.NOT_FOUND);
    await expectCode(n().NodeGetVolumeStats({ volume_id: 'no-such-volume', volume_path: targetOf('nothing-here') }), grpc.status.NOT_FOUND);
  });

  it('succeeds for unpublish and unstage of paths that were never mounted', async () => {
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: targetOf('never') });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: stagingOf('never') });
    await n().NodeUnpublishVolume({ volume_id: 'no-such-volume', target_path: targetOf('never') });
  });

  it('returns INVALID_ARGUMENT for block access on stage and publish, and mounts nothing', async () => {
    const staging = stagingOf('block');
    const block = { access_mode: { mode: 'SINGLE_NODE_WRITER' as const }, block: {} };
    await expectCode(
      n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging, volume_capability: block }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      n().NodePublishVolume({
        volume_id: volumeId,
        staging_target_path: staging,
        target_path: targetOf('block'),
        volume_capability: block,
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(existsSync(staging), false);
    assert.equal(existsSync(targetOf('block')), false);
  });

  it('returns NOT_FOUND for staging a volume that does not exist, before making the staging path', async () => {
    const staging = stagingOf('ghost');
    await expectCode(stage(staging, 'no-such-volume'), grpc.status.NOT_FOUND);
    assert.equal(existsSync(staging), false);
    assert.equal(findMount(await readMountTable(), staging), undefined);
  });

  it('NodeExpandVolume answers for a published volume and NOT_FOUND for a path that is not its mount', async () => {
    const staging = stagingOf('expand');
    const target = targetOf('expand');
    await stage(staging);
    await publish(staging, target);
    const res = await n().NodeExpandVolume({ volume_id: volumeId, volume_path: target, capacity_range: { required_bytes: 2 * GiB } });
    assert.equal(res.capacity_bytes, String(2 * GiB));
    await expectCode(n().NodeExpandVolume({ volume_id: volumeId, volume_path: 'some/path' }), grpc.status.NOT_FOUND);
    await expectCode(n().NodeExpandVolume({ volume_id: 'no-such-volume', volume_path: target }), grpc.status.NOT_FOUND);
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
  });
});
