import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readMountTable, findMount } from '../../src/mount/mountTable';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';

const mountCap = { access_mode: { mode: 'SINGLE_NODE_WRITER' as const }, mount: { fs_type: '', mount_flags: [] } };

describe('volume lifecycle on the local backend (real server, real bind mounts)', () => {
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'both']);
  });
  after(async () => stopAndClean(d));

  it('creates, stages, publishes, reports stats, and takes everything down again', async () => {
    const { controller, node } = d.client;
    const created = await controller.CreateVolume({
      name: 'pvc-life-1',
      volume_capabilities: [mountCap],
      capacity_range: { required_bytes: 1 << 20 },
    });
    const vol = created.volume!;
    assert.equal(vol.volume_id, 'pvc-life-1');
    assert.ok(existsSync(path.join(d.dirs.share, 'volumes', 'pvc-life-1', 'data')));
    const staging = path.join(d.dirs.root, 'staging', 'pvc-life-1');
    const target = path.join(d.dirs.root, 'pods', 'p1', 'mount');
    await node.NodeStageVolume({
      volume_id: vol.volume_id,
      staging_target_path: staging,
      volume_capability: mountCap,
      volume_context: vol.volume_context,
    });
    await node.NodePublishVolume({
      volume_id: vol.volume_id,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap,
      readonly: false,
      volume_context: vol.volume_context,
    });
    const table = await readMountTable();
    assert.ok(findMount(table, staging), 'staging path is a mount point');
    assert.ok(findMount(table, target), 'target path is a mount point');
    writeFileSync(path.join(target, 'hello.txt'), 'through the target');
    assert.equal(readFileSync(path.join(d.dirs.share, 'volumes', 'pvc-life-1', 'data', 'hello.txt'), 'utf8'), 'through the target');
    const stats = await node.NodeGetVolumeStats({ volume_id: vol.volume_id, volume_path: target });
    assert.ok(stats.usage.length === 2 && Number(stats.usage[0]!.total) > 0);
    assert.equal(stats.volume_condition?.abnormal, false);
    await node.NodeUnpublishVolume({ volume_id: vol.volume_id, target_path: target });
    await node.NodeUnstageVolume({ volume_id: vol.volume_id, staging_target_path: staging });
    const after = await readMountTable();
    assert.equal(findMount(after, target), undefined);
    assert.equal(findMount(after, staging), undefined);
    assert.equal(existsSync(target), false, 'target directory removed');
    await controller.DeleteVolume({ volume_id: vol.volume_id });
    assert.equal(existsSync(path.join(d.dirs.share, 'volumes', 'pvc-life-1')), false);
    await expectCode(controller.ControllerGetVolume({ volume_id: vol.volume_id }), grpc.status.NOT_FOUND);
  });
});
