import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, MiB, blockCap, createVolume, listTree, mountCap, volumeRequest, stopAndClean } from './conformanceKit';

describe('conformance: Controller volumes (--health-api v1.12)', () => {
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
  });
  after(() => stopAndClean(d));
  const c = () => d.client.controller;
  const volumeDir = (id: string) => path.join(d.dirs.share, 'volumes', id);
  const record = (id: string) =>
    JSON.parse(readFileSync(path.join(volumeDir(id), 'volume.json'), 'utf8')) as { name: string; capacityBytes: number };

  describe('CreateVolume', () => {
    it('creates a volume directory with its record on the share', async () => {
      const res = await c().CreateVolume(volumeRequest('pvc-create-1', 2 * GiB));
      const vol = res.volume!;
      assert.ok(vol.volume_id);
      assert.ok(Number(vol.capacity_bytes) >= 2 * GiB);
      assert.ok(existsSync(path.join(volumeDir(vol.volume_id), 'data')));
      assert.equal(record(vol.volume_id).name, 'pvc-create-1');
    });

    it('is idempotent by name: the same name and size returns the same volume', async () => {
      const a = await c().CreateVolume(volumeRequest('pvc-twice', GiB));
      const tree = listTree(d.dirs.share);
      const b = await c().CreateVolume(volumeRequest('pvc-twice', GiB));
      assert.equal(b.volume?.volume_id, a.volume?.volume_id);
      assert.equal(b.volume?.capacity_bytes, a.volume?.capacity_bytes);
      assert.deepEqual(listTree(d.dirs.share), tree, 'the retry made nothing new');
    });

    it('returns ALREADY_EXISTS for the same name with a larger required size', async () => {
      await c().CreateVolume(volumeRequest('pvc-twice-different', GiB, GiB));
      await expectCode(c().CreateVolume(volumeRequest('pvc-twice-different', 2 * GiB, 2 * GiB)), grpc.status.ALREADY_EXISTS);
    });

    it('returns ALREADY_EXISTS for the same name with a limit below the existing size', async () => {
      await c().CreateVolume(volumeRequest('pvc-twice-limit', 2 * GiB));
      await expectCode(c().CreateVolume(volumeRequest('pvc-twice-limit', MiB, GiB)), grpc.status.ALREADY_EXISTS);
    });

    it('gives a volume without a capacity range a non-zero default size', async () => {
      const res = await c().CreateVolume(volumeRequest('pvc-no-capacity'));
      assert.ok(Number(res.volume?.capacity_bytes) > 0);
    });

    it('honours a limit-only capacity range', async () => {
      const res = await c().CreateVolume(volumeRequest('pvc-limit-only', undefined, 100 * MiB));
      const bytes = Number(res.volume?.capacity_bytes);
      assert.ok(bytes > 0 && bytes <= 100 * MiB, `capacity ${bytes} within the limit`);
    });

    it('returns INVALID_ARGUMENT when required_bytes is larger than limit_bytes', async () => {
      const tree = listTree(d.dirs.share);
      await expectCode(c().CreateVolume(volumeRequest('pvc-bad-range', 2 * GiB, GiB)), grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(listTree(d.dirs.share), tree);
    });

    it('returns OUT_OF_RANGE for a size larger than the whole share', async () => {
      await expectCode(c().CreateVolume(volumeRequest('pvc-too-big', 2 ** 52)), grpc.status.OUT_OF_RANGE);
      assert.equal(existsSync(volumeDir('pvc-too-big')), false);
    });

    it('accepts a name of the maximum length (128 bytes), twice', async () => {
      const name = `pvc-${'x'.repeat(124)}`;
      const a = await c().CreateVolume(volumeRequest(name, GiB));
      const b = await c().CreateVolume(volumeRequest(name, GiB));
      assert.equal(a.volume?.volume_id, b.volume?.volume_id);
      assert.ok(Buffer.byteLength(a.volume!.volume_id) <= 128);
    });

    it('returns INVALID_ARGUMENT for block access and for an unknown parameter', async () => {
      await expectCode(c().CreateVolume({ name: 'pvc-block', volume_capabilities: [blockCap()] }), grpc.status.INVALID_ARGUMENT);
      await expectCode(
        c().CreateVolume({ ...volumeRequest('pvc-param'), parameters: { noSuchParameter: 'x' } }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.equal(existsSync(volumeDir('pvc-block')), false);
      assert.equal(existsSync(volumeDir('pvc-param')), false);
    });

    it('returns NOT_FOUND for an unknown source snapshot or source volume, and creates nothing', async () => {
      const tree = listTree(d.dirs.share);
      await expectCode(
        c().CreateVolume({
          ...volumeRequest('pvc-from-nothing'),
          volume_content_source: { snapshot: { snapshot_id: 'no-such-snapshot' } },
        }),
        grpc.status.NOT_FOUND,
      );
      await expectCode(
        c().CreateVolume({ ...volumeRequest('pvc-clone-nothing'), volume_content_source: { volume: { volume_id: 'no-such-volume' } } }),
        grpc.status.NOT_FOUND,
      );
      assert.deepEqual(listTree(d.dirs.share), tree);
    });
  });

  describe('DeleteVolume', () => {
    it('removes the volume directory, and a repeated delete succeeds', async () => {
      const id = await createVolume(d.client, 'pvc-delete-me');
      await c().DeleteVolume({ volume_id: id });
      assert.equal(existsSync(volumeDir(id)), false);
      await c().DeleteVolume({ volume_id: id });
      await expectCode(c().ControllerGetVolume({ volume_id: id }), grpc.status.NOT_FOUND);
    });

    it('succeeds for an unknown volume id', async () => {
      await c().DeleteVolume({ volume_id: 'fake-vol-id' });
    });
  });

  describe('ValidateVolumeCapabilities', () => {
    it('returns NOT_FOUND for an unknown volume id', async () => {
      await expectCode(
        c().ValidateVolumeCapabilities({ volume_id: 'no-such-volume', volume_capabilities: [mountCap()] }),
        grpc.status.NOT_FOUND,
      );
    });

    it('confirms every mount access mode, echoing the capabilities', async () => {
      const id = await createVolume(d.client, 'pvc-validate');
      const caps = [mountCap('SINGLE_NODE_WRITER'), mountCap('MULTI_NODE_MULTI_WRITER'), mountCap('MULTI_NODE_READER_ONLY')];
      const res = await c().ValidateVolumeCapabilities({ volume_id: id, volume_capabilities: caps });
      assert.ok(res.confirmed, res.message);
      assert.equal(res.confirmed.volume_capabilities.length, 3);
      assert.deepEqual(
        res.confirmed.volume_capabilities.map((x) => x.access_mode?.mode),
        ['SINGLE_NODE_WRITER', 'MULTI_NODE_MULTI_WRITER', 'MULTI_NODE_READER_ONLY'],
      );
    });

    it('does not confirm block access, and says why', async () => {
      const id = await createVolume(d.client, 'pvc-validate-block');
      const res = await c().ValidateVolumeCapabilities({ volume_id: id, volume_capabilities: [blockCap()] });
      assert.equal(res.confirmed, null);
      assert.match(res.message, /block/);
    });
  });

  describe('ControllerGetVolume', () => {
    it('returns NOT_FOUND for an unknown volume id', async () => {
      await expectCode(c().ControllerGetVolume({ volume_id: 'no-such-volume' }), grpc.status.NOT_FOUND);
    });

    it('returns the volume with a normal volume_condition', async () => {
      const id = await createVolume(d.client, 'pvc-get', 3 * GiB);
      const res = await c().ControllerGetVolume({ volume_id: id });
      assert.equal(res.volume?.volume_id, id);
      assert.equal(res.volume?.capacity_bytes, String(3 * GiB));
      assert.ok(res.status?.volume_condition, 'volume_condition is present in v1.12 mode');
      assert.equal(res.status.volume_condition.abnormal, false);
    });

    it('reports an abnormal volume_condition when the data directory vanished from the share', async () => {
      const id = await createVolume(d.client, 'pvc-get-gone');
      rmSync(path.join(volumeDir(id), 'data'), { recursive: true, force: true });
      const res = await c().ControllerGetVolume({ volume_id: id });
      assert.equal(res.status?.volume_condition?.abnormal, true);
      assert.ok(res.status.volume_condition.message.length > 0);
    });
  });

  describe('GetCapacity', () => {
    it('returns the free space of the share, within the maximum volume size', async () => {
      const res = await c().GetCapacity({});
      const available = Number(res.available_capacity);
      assert.ok(available > 0);
      assert.ok(available <= Number(res.maximum_volume_size?.value));
    });

    it('returns zero capacity for block access', async () => {
      const res = await c().GetCapacity({ volume_capabilities: [blockCap()] });
      assert.equal(res.available_capacity, '0');
    });
  });

  describe('ControllerExpandVolume', () => {
    it('returns NOT_FOUND for an unknown volume id', async () => {
      await expectCode(
        c().ControllerExpandVolume({ volume_id: 'no-such-volume', capacity_range: { required_bytes: 2 * GiB } }),
        grpc.status.NOT_FOUND,
      );
    });

    it('grows the recorded capacity, needing no node step', async () => {
      const id = await createVolume(d.client, 'pvc-expand', GiB);
      const res = await c().ControllerExpandVolume({
        volume_id: id,
        capacity_range: { required_bytes: 11 * GiB },
        volume_capability: mountCap(),
      });
      assert.equal(res.capacity_bytes, String(11 * GiB));
      assert.equal(res.node_expansion_required, false);
      assert.equal(record(id).capacityBytes, 11 * GiB);
      const got = await c().ControllerGetVolume({ volume_id: id });
      assert.equal(got.volume?.capacity_bytes, String(11 * GiB));
    });

    it('never shrinks a volume', async () => {
      const id = await createVolume(d.client, 'pvc-no-shrink', 4 * GiB);
      const res = await c().ControllerExpandVolume({ volume_id: id, capacity_range: { required_bytes: GiB } });
      assert.equal(res.capacity_bytes, String(4 * GiB));
      assert.equal(record(id).capacityBytes, 4 * GiB);
    });
  });
});
