import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { driverDirs, startDriverProcess, type DriverDirs, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, listTree, mountCap, mountPoints, stopAndClean } from './conformanceKit';

/** Items of `after` that `before` does not have, counting duplicates. */
function added(before: string[], after: string[]): string[] {
  const left = [...before];
  return after.filter((x) => {
    const i = left.indexOf(x);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

/**
 * Mount points that appeared, leaving out other test runs' temp directories (suites of other
 * engineers may mount under /tmp in parallel); anything of ours or outside the temp dir counts.
 */
async function newMounts(before: string[], root: string): Promise<string[]> {
  const tmp = os.tmpdir();
  return added(before, await mountPoints()).filter(
    (p) => p === root || p.startsWith(root + '/') || !(p === tmp || p.startsWith(tmp + '/')),
  );
}

/**
 * Every bad input below is built so that, had it escaped, it would land inside the watched root
 * (next to share/ and state/): so comparing the root tree before and after is a proof, not a sample.
 */
describe('conformance: nothing is made outside --local-dir, --state-dir and the requested paths', () => {
  let dirs: DriverDirs;
  let d: DriverProcess;
  let treeBefore: string[];
  let mountsBefore: string[];
  const rel = (p: string) => path.relative(dirs.root, p);

  before(async () => {
    dirs = driverDirs('csi-contain-');
    // What kubelet makes before it calls the driver: the pod directory and the staging parent.
    mkdirSync(path.join(dirs.root, 'kubelet', 'pods', 'p1'), { recursive: true });
    mkdirSync(path.join(dirs.root, 'kubelet', 'pods', 'p2'), { recursive: true });
    mkdirSync(path.join(dirs.root, 'kubelet', 'staging'), { recursive: true });
    treeBefore = listTree(dirs.root);
    mountsBefore = await mountPoints();
    d = await startDriverProcess(['--health-api', 'v1.12'], dirs);
  });
  after(() => stopAndClean(d));

  it('a full lifecycle and escaping inputs touch only the share, the state dir and the requested paths', async () => {
    const { controller: c, node: n } = d.client;
    const staging = path.join(dirs.root, 'kubelet', 'staging', 'vol');
    const target = path.join(dirs.root, 'kubelet', 'pods', 'p1', 'mount');
    const targetRo = path.join(dirs.root, 'kubelet', 'pods', 'p2', 'mount');
    const cap = mountCap();

    const id = await createVolume(d.client, 'pvc-contained', GiB);
    const snap = (await c.CreateSnapshot({ name: 'snap-contained', source_volume_id: id })).snapshot!.snapshot_id;
    const restored = (
      await c.CreateVolume({ name: 'pvc-restored', volume_capabilities: [cap], volume_content_source: { snapshot: { snapshot_id: snap } } })
    ).volume!.volume_id;
    const cloned = (
      await c.CreateVolume({ name: 'pvc-cloned', volume_capabilities: [cap], volume_content_source: { volume: { volume_id: id } } })
    ).volume!.volume_id;
    await c.ControllerExpandVolume({ volume_id: id, capacity_range: { required_bytes: 2 * GiB } });
    await n.NodeStageVolume({ volume_id: id, staging_target_path: staging, volume_capability: cap });
    await n.NodePublishVolume({ volume_id: id, staging_target_path: staging, target_path: target, volume_capability: cap });
    await n.NodePublishVolume({
      volume_id: id,
      staging_target_path: staging,
      target_path: targetRo,
      volume_capability: cap,
      readonly: true,
    });
    await n.NodeGetVolumeStats({ volume_id: id, volume_path: target });
    await n.NodeExpandVolume({ volume_id: id, volume_path: target, capacity_range: { required_bytes: 2 * GiB } });

    // Inputs whose escape would land in the root: share/volumes/../../x is <root>/x.
    const bad = grpc.status.INVALID_ARGUMENT;
    await expectCode(c.CreateVolume({ name: '../../escaped-volume', volume_capabilities: [cap] }), bad);
    await expectCode(c.CreateSnapshot({ name: '../../escaped-snapshot', source_volume_id: id }), bad);
    await expectCode(c.CreateSnapshot({ name: 'snap-escape', source_volume_id: '../../kubelet' }), bad);
    await expectCode(
      c.CreateVolume({ name: 'pvc-escape', volume_capabilities: [cap], volume_content_source: { volume: { volume_id: '../../kubelet' } } }),
      bad,
    );
    await expectCode(c.DeleteVolume({ volume_id: '../../kubelet' }), bad);
    await expectCode(c.DeleteSnapshot({ snapshot_id: '../../kubelet' }), bad);
    await expectCode(
      n.NodeStageVolume({
        volume_id: '../../kubelet',
        staging_target_path: path.join(dirs.root, 'kubelet', 'staging', 'evil'),
        volume_capability: cap,
      }),
      bad,
    );
    await expectCode(
      n.NodeStageVolume({
        volume_id: id,
        staging_target_path: `${dirs.root}/kubelet/staging/../../escaped-staging`,
        volume_capability: cap,
      }),
      bad,
    );
    await expectCode(
      n.NodePublishVolume({
        volume_id: id,
        staging_target_path: staging,
        target_path: `${dirs.root}/kubelet/pods/p1/../../../escaped-target`,
        volume_capability: cap,
      }),
      bad,
    );
    await expectCode(n.NodeUnpublishVolume({ volume_id: id, target_path: `${dirs.root}/kubelet/pods/../pods/p1/mount` }), bad);
    await expectCode(n.NodeUnstageVolume({ volume_id: id, staging_target_path: `${dirs.root}/kubelet/../kubelet/staging/vol` }), bad);

    const skip = ['share', 'state', rel(staging), rel(target), rel(targetRo)];
    assert.deepEqual(
      added(treeBefore, listTree(dirs.root, skip)).sort(),
      ['csi.sock:s', 'driver.log:f', `${rel(target)}:d`, `${rel(targetRo)}:d`, `${rel(staging)}:d`, 'share:d', 'state:d'].sort(),
    );
    assert.deepEqual(
      (await newMounts(mountsBefore, dirs.root)).sort(),
      [staging, target, targetRo].sort(),
      'the only new mounts are the requested ones',
    );

    await n.NodeUnpublishVolume({ volume_id: id, target_path: target });
    await n.NodeUnpublishVolume({ volume_id: id, target_path: targetRo });
    await n.NodeUnstageVolume({ volume_id: id, staging_target_path: staging });
    await c.DeleteSnapshot({ snapshot_id: snap });
    for (const v of [id, restored, cloned]) await c.DeleteVolume({ volume_id: v });

    assert.deepEqual(added(treeBefore, listTree(dirs.root, ['share', 'state'])).sort(), [
      'csi.sock:s',
      'driver.log:f',
      'share:d',
      'state:d',
    ]);
    assert.deepEqual(
      listTree(dirs.share),
      ['registry/volumes:d', 'registry:d', 'snapshots:d', 'volumes:d'],
      'the share holds nothing of the deleted volumes and snapshots (the registry directory stays, empty)',
    );
    assert.deepEqual(await newMounts(mountsBefore, dirs.root), [], 'every mount is gone');
  });
});
