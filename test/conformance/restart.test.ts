import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findMount, readMountTable } from '../../src/mount/mountTable';
import { driverDirs, startDriverProcess, type DriverDirs, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, listAllVolumeIds, mountCap, mountsUnder, stopAndClean } from './conformanceKit';

describe('conformance: kill -9 and restart on the same directories', () => {
  let dirs: DriverDirs;
  let first: DriverProcess | undefined;
  let d: DriverProcess | undefined;
  let volumeIds: string[];
  let snapshotIds: string[];
  const staging = () => path.join(dirs.root, 'kubelet', 'staging', 'a');
  const target = () => path.join(dirs.root, 'kubelet', 'pods', 'p1', 'mount');
  const targetRo = () => path.join(dirs.root, 'kubelet', 'pods', 'p2', 'mount');
  const stagingB = () => path.join(dirs.root, 'kubelet', 'staging', 'b');
  const targetB = () => path.join(dirs.root, 'kubelet', 'pods', 'p3', 'mount');

  before(async () => {
    dirs = driverDirs('csi-restart-');
    first = await startDriverProcess(['--health-api', 'v1.12'], dirs);
    const { controller: c, node: n } = first.client;
    volumeIds = [await createVolume(first.client, 'pvc-restart-a', GiB), await createVolume(first.client, 'pvc-restart-b', 2 * GiB)];
    snapshotIds = [(await c.CreateSnapshot({ name: 'snap-restart', source_volume_id: volumeIds[0]! })).snapshot!.snapshot_id];
    const [a, b] = volumeIds as [string, string];
    const cap = mountCap();
    await n.NodeStageVolume({ volume_id: a, staging_target_path: staging(), volume_capability: cap });
    await n.NodePublishVolume({ volume_id: a, staging_target_path: staging(), target_path: target(), volume_capability: cap });
    await n.NodePublishVolume({
      volume_id: a,
      staging_target_path: staging(),
      target_path: targetRo(),
      volume_capability: cap,
      readonly: true,
    });
    await n.NodeStageVolume({ volume_id: b, staging_target_path: stagingB(), volume_capability: cap });
    await n.NodePublishVolume({ volume_id: b, staging_target_path: stagingB(), target_path: targetB(), volume_capability: cap });
    writeFileSync(path.join(target(), 'before-crash.txt'), 'still here');
    await first.kill();
    // While the driver is down, one publication disappears behind its back.
    execFileSync('umount', [targetB()]);
    d = await startDriverProcess(['--health-api', 'v1.12'], dirs);
  });
  after(async () => {
    await first?.kill();
    await stopAndClean(d);
  });

  it('keeps the kernel mounts of the killed driver', async () => {
    const table = await readMountTable();
    for (const p of [staging(), target(), targetRo(), stagingB()]) assert.ok(findMount(table, p), `${p} is still mounted`);
    assert.equal(readFileSync(path.join(target(), 'before-crash.txt'), 'utf8'), 'still here');
  });

  it('lists the same volumes and snapshots', async () => {
    assert.deepEqual((await listAllVolumeIds(d!.client)).sort(), [...volumeIds].sort());
    const snaps = await d!.client.controller.ListSnapshots({});
    assert.deepEqual(
      snaps.entries.map((e) => e.snapshot?.snapshot_id),
      snapshotIds,
    );
    const b = await d!.client.controller.ControllerGetVolume({ volume_id: volumeIds[1]! });
    assert.equal(b.volume?.capacity_bytes, String(2 * GiB));
  });

  it('knows the publications it made before, and treats a repeated publish as done', async () => {
    const a = volumeIds[0]!;
    const stats = await d!.client.node.NodeGetVolumeStats({ volume_id: a, volume_path: target() });
    assert.ok(stats.usage.length > 0);
    await d!.client.node.NodePublishVolume({
      volume_id: a,
      staging_target_path: staging(),
      target_path: target(),
      volume_capability: mountCap(),
    });
    const points = (await mountsUnder(dirs.root)).filter((p) => p === target());
    assert.equal(points.length, 1, 'the repeated publish stacked no second mount');
    await expectCode(
      d!.client.node.NodePublishVolume({
        volume_id: a,
        staging_target_path: staging(),
        target_path: targetRo(),
        volume_capability: mountCap(),
        readonly: false,
      }),
      grpc.status.ALREADY_EXISTS,
    );
  });

  it('forgets a publication that vanished while it was down', async () => {
    await expectCode(d!.client.node.NodeGetVolumeStats({ volume_id: volumeIds[1]!, volume_path: targetB() }), grpc.status.NOT_FOUND);
  });

  it('unpublishes and unstages the earlier publications, leaving no mount behind', async () => {
    const [a, b] = volumeIds as [string, string];
    const n = d!.client.node;
    await n.NodeUnpublishVolume({ volume_id: a, target_path: target() });
    await n.NodeUnpublishVolume({ volume_id: a, target_path: targetRo() });
    await n.NodeUnstageVolume({ volume_id: a, staging_target_path: staging() });
    await n.NodeUnpublishVolume({ volume_id: b, target_path: targetB() });
    await n.NodeUnstageVolume({ volume_id: b, staging_target_path: stagingB() });
    assert.deepEqual(await mountsUnder(dirs.root), []);
    for (const p of [target(), targetRo(), targetB()]) assert.equal(existsSync(p), false, `${p} removed`);
    assert.equal(readFileSync(path.join(dirs.share, 'volumes', a, 'data', 'before-crash.txt'), 'utf8'), 'still here');
  });
});
