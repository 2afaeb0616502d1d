import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, listTree, mountCap, stopAndClean } from './conformanceKit';

/**
 * Every Controller RPC rejects a missing required field with INVALID_ARGUMENT before it does
 * anything: the share and the state directory look exactly as before the call.
 */
describe('conformance: Controller required fields (--health-api v1.12)', () => {
  let d: DriverProcess;
  let volumeId: string;
  let snapshotId: string;
  let before_: { share: string[]; state: string[]; record: string };

  const volumeRecord = (): string => readFileSync(path.join(d.dirs.share, 'volumes', volumeId, 'volume.json'), 'utf8');
  const snapshotState = () => ({ share: listTree(d.dirs.share), state: listTree(d.dirs.state), record: volumeRecord() });

  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-required-fields', GiB);
    const snap = await d.client.controller.CreateSnapshot({ name: 'snap-required-fields', source_volume_id: volumeId });
    snapshotId = snap.snapshot!.snapshot_id;
    before_ = snapshotState();
  });
  after(() => stopAndClean(d));
  afterEach(() => {
    assert.deepEqual(snapshotState(), before_, 'the call left the share and the state directory untouched');
  });

  const c = () => d.client.controller;
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['CreateVolume without name', () => c().CreateVolume({ volume_capabilities: [mountCap()] })],
    ['CreateVolume without volume_capabilities', () => c().CreateVolume({ name: 'pvc-no-caps' })],
    [
      'CreateVolume with a capability without access_mode',
      () => c().CreateVolume({ name: 'pvc-no-mode', volume_capabilities: [{ mount: {} }] }),
    ],
    [
      'CreateVolume with a capability without access_type',
      () => c().CreateVolume({ name: 'pvc-no-type', volume_capabilities: [{ access_mode: { mode: 'SINGLE_NODE_WRITER' } }] }),
    ],
    [
      'CreateVolume with a snapshot source without snapshot_id',
      () => c().CreateVolume({ name: 'pvc-empty-src', volume_capabilities: [mountCap()], volume_content_source: { snapshot: {} } }),
    ],
    [
      'CreateVolume with a volume source without volume_id',
      () => c().CreateVolume({ name: 'pvc-empty-vsrc', volume_capabilities: [mountCap()], volume_content_source: { volume: {} } }),
    ],
    ['DeleteVolume without volume_id', () => c().DeleteVolume({})],
    ['ValidateVolumeCapabilities without volume_id', () => c().ValidateVolumeCapabilities({ volume_capabilities: [mountCap()] })],
    ['ValidateVolumeCapabilities without volume_capabilities', () => c().ValidateVolumeCapabilities({ volume_id: volumeId })],
    ['ControllerGetVolume without volume_id', () => c().ControllerGetVolume({})],
    ['ControllerGetVolumeHealth without volume_id', () => c().ControllerGetVolumeHealth({})],
    ['ControllerExpandVolume without volume_id', () => c().ControllerExpandVolume({ capacity_range: { required_bytes: 2 * GiB } })],
    ['ControllerExpandVolume without capacity_range', () => c().ControllerExpandVolume({ volume_id: volumeId })],
    ['CreateSnapshot without name', () => c().CreateSnapshot({ source_volume_id: volumeId })],
    ['CreateSnapshot without source_volume_id', () => c().CreateSnapshot({ name: 'snap-no-source' })],
    ['DeleteSnapshot without snapshot_id', () => c().DeleteSnapshot({})],
    ['GetSnapshot without snapshot_id', () => c().GetSnapshot({})],
    ['ListVolumes with a negative max_entries', () => c().ListVolumes({ max_entries: -1 })],
    ['ListSnapshots with a negative max_entries', () => c().ListSnapshots({ max_entries: -1 })],
    ['ControllerListVolumeHealth with a negative max_entries', () => c().ControllerListVolumeHealth({ max_entries: -1 })],
  ];
  for (const [what, call] of cases) {
    it(`returns INVALID_ARGUMENT for ${what}, before any effect`, async () => {
      await expectCode(call(), grpc.status.INVALID_ARGUMENT);
    });
  }

  it('returns UNIMPLEMENTED for ControllerPublishVolume and ControllerUnpublishVolume without --enable-attach', async () => {
    await expectCode(
      c().ControllerPublishVolume({ volume_id: volumeId, node_id: 'node-1', volume_capability: mountCap() }),
      grpc.status.UNIMPLEMENTED,
    );
    await expectCode(c().ControllerUnpublishVolume({ volume_id: volumeId, node_id: 'node-1' }), grpc.status.UNIMPLEMENTED);
  });

  it('keeps the volume and the snapshot that existed before the rejected calls', async () => {
    const vol = await c().ControllerGetVolume({ volume_id: volumeId });
    assert.equal(vol.volume?.capacity_bytes, String(GiB));
    const snap = await c().GetSnapshot({ snapshot_id: snapshotId });
    assert.equal(snap.snapshot?.source_volume_id, volumeId);
  });
});
