import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { RecordRead, ShareCapacity, VolumeRecord } from '../../../src/backend/records';
import type { ShareStore } from '../../../src/backend/shareStore';
import type { ControllerHealth } from '../../../src/controller/controllerHealth';
import { createControllerService } from '../../../src/controller/controllerService';
import type { ShareRecordStore } from '../../../src/backend/shareRecordStore';
import { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { withBatchedReads } from '../../helpers/fakeRecordReads';
import type { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import { CsiError } from '../../../src/grpc/csiError';
import type { CreateVolumeRequest__Output } from '../../../src/gen/csi/v1/CreateVolumeRequest';

const maxInt64 = 9223372036854775807n;
const ctx = { logger: pino({ level: 'silent' }) };

/** A share in memory: records by id, a capacity the test sets. */
function fakeShare(capacity: ShareCapacity) {
  const volumes = new Map<string, VolumeRecord>();
  const registry = new Map<string, VolumeRecord>();
  const read = (m: Map<string, VolumeRecord>, id: string): RecordRead<VolumeRecord> => {
    const rec = m.get(id);
    return rec ? { state: 'ok', rec: structuredClone(rec) } : { state: 'absent' };
  };
  const store = {
    capacity: async () => capacity,
    getVolume: async (id: string) => volumes.get(id),
    readVolume: async (id: string) => read(volumes, id),
    volumeDirIds: async () => [...volumes.keys()].sort(),
    // The controller passes the registration as the step after the record; this share applies it.
    createVolume: async (rec: VolumeRecord, _fill: unknown, then: unknown[] = []) => {
      volumes.set(rec.id, structuredClone(rec));
      if (then.length > 0) registry.set(rec.id, structuredClone(rec));
    },
    updateVolume: async (rec: VolumeRecord) => void volumes.set(rec.id, structuredClone(rec)),
  } as unknown as ShareStore;
  const reg = {
    ensureLayout: async () => undefined,
    ids: async () => [...registry.keys()].sort(),
    read: async (id: string) => read(registry, id),
    put: async (rec: VolumeRecord) => void registry.set(rec.id, structuredClone(rec)),
    putStep: async (rec: VolumeRecord) => ({ req: { op: 'writeFileAtomic', path: `registry/volumes/${rec.id}.json`, data: '' } }),
  } as unknown as VolumeRegistry;
  withBatchedReads(store, reg);
  const catalog = new VolumeCatalog(store, reg);
  const svc = createControllerService({
    store,
    catalog,
    health: {} as ControllerHealth,
    context: { backend: 'local' },
    healthApi: 'v1.13',
    records: {} as ShareRecordStore,
  });
  return { svc, volumes, registry };
}

function createRequest(name: string, required: string, parameters: Record<string, string> = {}): CreateVolumeRequest__Output {
  return {
    name,
    capacity_range: { required_bytes: required, limit_bytes: '0' },
    volume_capabilities: [
      {
        access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' },
        mount: { fs_type: '', mount_flags: [], volume_mount_group: '' },
        access_type: 'mount',
      },
    ],
    parameters,
    secrets: {},
    volume_content_source: null,
    accessibility_requirements: null,
    mutable_parameters: {},
  } as unknown as CreateVolumeRequest__Output;
}

describe('exact int64 capacities in the controller', () => {
  for (const [label, bytes] of [
    ['2^53 + 1', 9007199254740993n],
    ['2^63 - 1', maxInt64],
  ] as const) {
    it(`creates, records, answers and expands a volume of ${label} bytes exactly`, async () => {
      const { svc, volumes, registry } = fakeShare({ totalBytes: maxInt64, availableBytes: maxInt64 });
      const res = await svc.CreateVolume(createRequest('pvc-big', String(bytes)), ctx);
      assert.equal(res.volume?.capacity_bytes, String(bytes));
      assert.equal(volumes.get('pvc-big')?.capacityBytes, bytes, 'volume.json holds the exact figure');
      assert.equal(registry.get('pvc-big')?.capacityBytes, bytes, 'the registry entry too');
      const again = await svc.CreateVolume(createRequest('pvc-big', String(bytes)), ctx);
      assert.equal(again.volume?.capacity_bytes, String(bytes), 'an idempotent retry sees the same figure');
      const got = await svc.ControllerGetVolume({ volume_id: 'pvc-big', secrets: {} } as never, ctx);
      assert.equal(got.volume?.capacity_bytes, String(bytes));
    });
  }

  it('tells 2^53 and 2^53 + 1 apart when checking a retry (ALREADY_EXISTS for the larger one)', async () => {
    const { svc } = fakeShare({ totalBytes: maxInt64, availableBytes: maxInt64 });
    await svc.CreateVolume(createRequest('pvc-edge', '9007199254740992'), ctx);
    await assert.rejects(
      svc.CreateVolume(createRequest('pvc-edge', '9007199254740993'), ctx),
      (err) => err instanceof CsiError && err.code === 6,
    );
  });

  it('answers GetCapacity with the exact figures of a share of about 8 EiB', async () => {
    const total = maxInt64 - 4095n;
    const { svc } = fakeShare({ totalBytes: total, availableBytes: total - 1n });
    const res = await svc.GetCapacity({ volume_capabilities: [], parameters: {}, accessible_topology: null }, ctx);
    assert.equal(res.available_capacity, String(total - 1n));
    assert.equal(res.maximum_volume_size?.value, String(total));
  });

  it('caps a share larger than int64 at 2^63 - 1 instead of wrapping negative', async () => {
    const { svc } = fakeShare({ totalBytes: 1n << 64n, availableBytes: 1n << 63n });
    const res = await svc.GetCapacity({ volume_capabilities: [], parameters: {}, accessible_topology: null }, ctx);
    assert.equal(res.available_capacity, String(maxInt64));
    assert.equal(res.maximum_volume_size?.value, String(maxInt64));
  });

  it('expands to 2^63 - 1 exactly, in volume.json and the registry', async () => {
    const { svc, volumes, registry } = fakeShare({ totalBytes: maxInt64, availableBytes: maxInt64 });
    await svc.CreateVolume(createRequest('pvc-grow', '9007199254740993'), ctx);
    const res = await svc.ControllerExpandVolume(
      {
        volume_id: 'pvc-grow',
        capacity_range: { required_bytes: String(maxInt64), limit_bytes: '0' },
        secrets: {},
        volume_capability: null,
      },
      ctx,
    );
    assert.equal(res.capacity_bytes, String(maxInt64));
    assert.equal(volumes.get('pvc-grow')?.capacityBytes, maxInt64);
    assert.equal(registry.get('pvc-grow')?.capacityBytes, maxInt64);
  });
});

describe('CreateVolume idempotency compares parameters', () => {
  it('returns the volume for a retry with the same parameters, and ALREADY_EXISTS naming the keys that differ', async () => {
    const { svc, volumes } = fakeShare({ totalBytes: maxInt64, availableBytes: maxInt64 });
    await svc.CreateVolume(createRequest('pvc-p', '1024', { mountOptions: 'noatime' }), ctx);
    const same = await svc.CreateVolume(
      createRequest('pvc-p', '1024', { mountOptions: 'noatime', 'csi.storage.k8s.io/pvc/name': 'x' }),
      ctx,
    );
    assert.equal(same.volume?.volume_id, 'pvc-p', "the provisioner's own keys do not count");
    await assert.rejects(svc.CreateVolume(createRequest('pvc-p', '1024', { mountOptions: 'nodiratime' }), ctx), (err) => {
      assert.ok(err instanceof CsiError && err.code === 6, String(err));
      assert.match(err.message, /other parameters \(mountOptions\)/);
      return true;
    });
    await assert.rejects(svc.CreateVolume(createRequest('pvc-p', '1024'), ctx), (err) => err instanceof CsiError && err.code === 6);
    assert.deepEqual(volumes.get('pvc-p')?.parameters, { mountOptions: 'noatime' }, 'the volume is unchanged');
  });
});
