import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, listTree, mountCap, mountsUnder, stopAndClean } from './conformanceKit';

/**
 * Every Node RPC rejects a missing required field with INVALID_ARGUMENT before it does anything:
 * no directory is made, nothing is mounted. Every other field of each request is valid, so the
 * missing one is the only reason to refuse.
 */
describe('conformance: Node required fields (--health-api v1.12)', () => {
  let d: DriverProcess;
  let volumeId: string;
  let staging: string;
  let target: string;
  let tree: string[];

  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-node-fields');
    staging = path.join(d.dirs.root, 'kubelet', 'staging', 'fields');
    target = path.join(d.dirs.root, 'kubelet', 'pods', 'p1', 'mount');
    mkdirSync(path.dirname(staging), { recursive: true });
    mkdirSync(path.dirname(target), { recursive: true });
    tree = listTree(d.dirs.root);
  });
  after(() => stopAndClean(d));
  afterEach(async () => {
    assert.deepEqual(listTree(d.dirs.root), tree, 'no file or directory was made');
    assert.deepEqual(await mountsUnder(d.dirs.root), [], 'nothing was mounted');
  });

  const n = () => d.client.node;
  const cap = mountCap();
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['NodeStageVolume without volume_id', () => n().NodeStageVolume({ staging_target_path: staging, volume_capability: cap })],
    ['NodeStageVolume without staging_target_path', () => n().NodeStageVolume({ volume_id: volumeId, volume_capability: cap })],
    ['NodeStageVolume without volume_capability', () => n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging })],
    [
      'NodeStageVolume with a relative staging_target_path',
      () => n().NodeStageVolume({ volume_id: volumeId, staging_target_path: 'kubelet/staging/x', volume_capability: cap }),
    ],
    ['NodeUnstageVolume without volume_id', () => n().NodeUnstageVolume({ staging_target_path: staging })],
    ['NodeUnstageVolume without staging_target_path', () => n().NodeUnstageVolume({ volume_id: volumeId })],
    [
      'NodePublishVolume without volume_id',
      () => n().NodePublishVolume({ staging_target_path: staging, target_path: target, volume_capability: cap }),
    ],
    [
      'NodePublishVolume without target_path',
      () => n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging, volume_capability: cap }),
    ],
    [
      'NodePublishVolume without staging_target_path',
      () => n().NodePublishVolume({ volume_id: volumeId, target_path: target, volume_capability: cap }),
    ],
    [
      'NodePublishVolume without volume_capability',
      () => n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging, target_path: target }),
    ],
    [
      'NodePublishVolume with a relative target_path',
      () =>
        n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging, target_path: 'pods/p1/mount', volume_capability: cap }),
    ],
    ['NodeUnpublishVolume without volume_id', () => n().NodeUnpublishVolume({ target_path: target })],
    ['NodeUnpublishVolume without target_path', () => n().NodeUnpublishVolume({ volume_id: volumeId })],
    ['NodeGetVolumeStats without volume_id', () => n().NodeGetVolumeStats({ volume_path: target })],
    ['NodeGetVolumeStats without volume_path', () => n().NodeGetVolumeStats({ volume_id: volumeId })],
    ['NodeExpandVolume without volume_id', () => n().NodeExpandVolume({ volume_path: target, volume_capability: cap })],
    ['NodeExpandVolume without volume_path', () => n().NodeExpandVolume({ volume_id: volumeId, volume_capability: cap })],
    ['NodeGetVolumeHealth without volume_id', () => n().NodeGetVolumeHealth({ volume_publish_path: target })],
  ];
  for (const [what, call] of cases) {
    it(`returns INVALID_ARGUMENT for ${what}, before any effect`, async () => {
      await expectCode(call(), grpc.status.INVALID_ARGUMENT);
    });
  }
});
