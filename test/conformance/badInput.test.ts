import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, listTree, mountCap, mountsUnder, stopAndClean } from './conformanceKit';

/** Names and ids that must never reach the file system: each is refused with INVALID_ARGUMENT. */
const badIdentifiers: Array<[string, string]> = [
  ['".."', '..'],
  ['"."', '.'],
  ['a "../" prefix', '../../escaped'],
  ['an inner ".."', 'pvc..evil'],
  ['a "/"', 'pvc/evil'],
  ['a leading "/"', '/etc'],
  ['a NUL byte', 'pvc-\0-evil'],
  ['129 ASCII bytes', 'p'.repeat(129)],
  ['130 bytes in 65 characters', 'é'.repeat(65)],
];

/** Paths that must not be used as staging or target paths. */
const badPaths: Array<[string, (root: string) => string]> = [
  ['a ".." component', (root) => path.join(root, 'kubelet') + '/../escaped'],
  ['a NUL byte', (root) => `${root}/kubelet/evil\0name`],
  ['a relative path', () => 'kubelet/relative'],
];

describe('conformance: bad names, ids and paths are refused before any effect', () => {
  let d: DriverProcess;
  let volumeId: string;
  let snapshotId: string;
  let tree: string[];
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-bad-input');
    snapshotId = (await d.client.controller.CreateSnapshot({ name: 'snap-bad-input', source_volume_id: volumeId })).snapshot!.snapshot_id;
    tree = listTree(d.dirs.root);
  });
  after(() => stopAndClean(d));
  afterEach(async () => {
    assert.deepEqual(listTree(d.dirs.root), tree, 'nothing was made or removed');
    assert.deepEqual(await mountsUnder(d.dirs.root), [], 'nothing was mounted');
  });
  const c = () => d.client.controller;
  const n = () => d.client.node;
  const staging = () => path.join(d.dirs.root, 'kubelet', 'staging', 'ok');
  const target = () => path.join(d.dirs.root, 'kubelet', 'pods', 'ok', 'mount');

  for (const [what, bad] of badIdentifiers) {
    it(`refuses a volume or snapshot name with ${what}`, async () => {
      await expectCode(c().CreateVolume({ name: bad, volume_capabilities: [mountCap()] }), grpc.status.INVALID_ARGUMENT);
      await expectCode(c().CreateSnapshot({ name: bad, source_volume_id: volumeId }), grpc.status.INVALID_ARGUMENT);
    });

    it(`refuses a controller volume or snapshot id with ${what}`, async () => {
      const s = grpc.status.INVALID_ARGUMENT;
      await expectCode(c().DeleteVolume({ volume_id: bad }), s);
      await expectCode(c().ControllerGetVolume({ volume_id: bad }), s);
      await expectCode(c().ValidateVolumeCapabilities({ volume_id: bad, volume_capabilities: [mountCap()] }), s);
      await expectCode(c().ControllerExpandVolume({ volume_id: bad, capacity_range: { required_bytes: 1 } }), s);
      await expectCode(c().ControllerGetVolumeHealth({ volume_id: bad }), s);
      await expectCode(c().CreateSnapshot({ name: 'snap-from-bad', source_volume_id: bad }), s);
      await expectCode(c().DeleteSnapshot({ snapshot_id: bad }), s);
      await expectCode(c().GetSnapshot({ snapshot_id: bad }), s);
      await expectCode(
        c().CreateVolume({
          name: 'pvc-from-bad-snap',
          volume_capabilities: [mountCap()],
          volume_content_source: { snapshot: { snapshot_id: bad } },
        }),
        s,
      );
      await expectCode(
        c().CreateVolume({
          name: 'pvc-from-bad-vol',
          volume_capabilities: [mountCap()],
          volume_content_source: { volume: { volume_id: bad } },
        }),
        s,
      );
    });

    it(`refuses a node volume id with ${what}`, async () => {
      const s = grpc.status.INVALID_ARGUMENT;
      const cap = mountCap();
      await expectCode(n().NodeStageVolume({ volume_id: bad, staging_target_path: staging(), volume_capability: cap }), s);
      await expectCode(n().NodeUnstageVolume({ volume_id: bad, staging_target_path: staging() }), s);
      await expectCode(
        n().NodePublishVolume({ volume_id: bad, staging_target_path: staging(), target_path: target(), volume_capability: cap }),
        s,
      );
      await expectCode(n().NodeUnpublishVolume({ volume_id: bad, target_path: target() }), s);
      await expectCode(n().NodeGetVolumeStats({ volume_id: bad, volume_path: target() }), s);
      await expectCode(n().NodeExpandVolume({ volume_id: bad, volume_path: target() }), s);
      await expectCode(n().NodeGetVolumeHealth({ volume_id: bad }), s);
    });
  }

  for (const [what, make] of badPaths) {
    it(`refuses a staging or target path with ${what}`, async () => {
      const s = grpc.status.INVALID_ARGUMENT;
      const bad = make(d.dirs.root);
      const cap = mountCap();
      await expectCode(n().NodeStageVolume({ volume_id: volumeId, staging_target_path: bad, volume_capability: cap }), s);
      await expectCode(n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: bad }), s);
      await expectCode(
        n().NodePublishVolume({ volume_id: volumeId, staging_target_path: bad, target_path: target(), volume_capability: cap }),
        s,
      );
      await expectCode(
        n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging(), target_path: bad, volume_capability: cap }),
        s,
      );
      await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: bad }), s);
    });
  }

  it('refuses mount flags that could smuggle options', async () => {
    const cap = { access_mode: { mode: 'SINGLE_NODE_WRITER' as const }, mount: { fs_type: '', mount_flags: ['ro,remount', 'x y'] } };
    await expectCode(c().CreateVolume({ name: 'pvc-flags', volume_capabilities: [cap] }), grpc.status.INVALID_ARGUMENT);
    await expectCode(
      n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging(), volume_capability: cap }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('refuses a 2 MB mountOptions parameter with INVALID_ARGUMENT and makes no volume', async () => {
    const huge = 'hard,'.repeat(400_000) + 'hard';
    const e = await expectCode(
      c().CreateVolume({ name: 'pvc-huge-options', volume_capabilities: [mountCap()], parameters: { mountOptions: huge } }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(e.details, 'parameter mountOptions: mount options of 2000004 characters; at most 1024');
    assert.ok(!(await c().ListVolumes({})).entries.some((v) => v.volume?.volume_id === 'pvc-huge-options'));
  });

  it('finds nothing, rather than failing, when ListSnapshots is asked for an id it could never have made', async () => {
    const res = await c().ListSnapshots({ snapshot_id: '../snapshots' });
    assert.equal(res.entries.length, 0);
  });

  it('still serves the volume and snapshot made before the bad calls', async () => {
    assert.equal((await c().ControllerGetVolume({ volume_id: volumeId })).volume?.volume_id, volumeId);
    assert.equal((await c().GetSnapshot({ snapshot_id: snapshotId })).snapshot?.snapshot_id, snapshotId);
  });
});
