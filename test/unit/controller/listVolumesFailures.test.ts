import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import type { RecordRead, VolumeInspection, VolumeRecord } from '../../../src/backend/records';
import type { ShareStore } from '../../../src/backend/shareStore';
import type { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import { ControllerHealth } from '../../../src/controller/controllerHealth';
import { createControllerService } from '../../../src/controller/controllerService';
import type { ShareRecordStore } from '../../../src/backend/shareRecordStore';
import { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { withBatchedReads } from '../../helpers/fakeRecordReads';
import { CsiError } from '../../../src/grpc/csiError';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';
import { HelpersExhaustedError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import type { HealthApi } from '../../../src/config';

const logger = pino({ level: 'silent' });

const record = (id: string): VolumeRecord => ({
  id,
  name: id,
  capacityBytes: 1024n,
  parameters: {},
  createdAt: '2026-12-06T10:00:00.000Z',
});

/** N registered volumes; `fail` decides, per registry read, whether the share fails it. */
function world(
  n: number,
  healthApi: HealthApi,
  opts: { fail?: (id: string) => Error | undefined; inspect?: (id: string) => Promise<VolumeInspection> } = {},
) {
  const ids = Array.from({ length: n }, (_, i) => `pvc-${String(i).padStart(5, '0')}`);
  const reads: string[] = [];
  const registry = {
    ids: async () => ids,
    read: async (id: string): Promise<RecordRead<VolumeRecord>> => {
      reads.push(id);
      await new Promise((r) => setImmediate(r));
      const err = opts.fail?.(id);
      if (err) throw err;
      return { state: 'ok', rec: record(id) };
    },
  } as unknown as VolumeRegistry;
  const store = {
    volumeDirIds: async () => ids,
    readVolume: async (id: string): Promise<RecordRead<VolumeRecord>> => ({ state: 'ok', rec: record(id) }),
    inspectVolume: opts.inspect ?? (async (): Promise<VolumeInspection> => ({ exists: true, accessible: true, metadataIntact: true })),
    capacity: async () => ({ totalBytes: 1n << 40n, availableBytes: 1n << 39n }),
  } as unknown as ShareStore;
  withBatchedReads(store, registry);
  const health = new ControllerHealth(store);
  const svc = createControllerService({
    store,
    catalog: new VolumeCatalog(store, registry),
    health,
    context: { backend: 'local' },
    healthApi,
    records: {} as ShareRecordStore,
  });
  return { svc, reads };
}

const listRequest = { max_entries: 0, starting_token: '' };

describe('ListVolumes and ControllerListVolumeHealth: no OK with less data', () => {
  it('fails the whole listing with UNAVAILABLE when the share times out on one entry, never a shorter list', async () => {
    const { svc } = world(50, 'both', {
      fail: (id) => (id === 'pvc-00031' ? new IsolationTimeoutError('readFile', `/share/registry/volumes/${id}.json`, 3000) : undefined),
    });
    for (const call of [
      () => svc.ListVolumes(listRequest, { logger }),
      () => svc.ControllerListVolumeHealth({ ...listRequest, secrets: {} }, { logger }),
    ]) {
      await assert.rejects(call(), (err) => toGrpcStatus(err).code === status.UNAVAILABLE);
    }
  });

  it('fails with UNAVAILABLE when the helper pool is exhausted while looking at volumes, instead of reporting them broken', async () => {
    const inspect = async (id: string): Promise<VolumeInspection> => {
      if (id === 'pvc-00002') throw new HelpersExhaustedError(8);
      return { exists: true, accessible: true, metadataIntact: true };
    };
    const { svc } = world(5, 'both', { inspect });
    await assert.rejects(svc.ListVolumes(listRequest, { logger }), (err) => toGrpcStatus(err).code === status.UNAVAILABLE);
  });

  it('lists every volume when all answer', async () => {
    const { svc } = world(30, 'both');
    const res = await svc.ListVolumes(listRequest, { logger });
    assert.equal(res.entries?.length, 30);
    assert.ok(res.entries?.every((e) => e.status?.volume_condition?.abnormal === false));
  });
});

describe('ListVolumes honours cancellation', () => {
  it('stops reading entries once the client is gone, and answers CANCELLED', async () => {
    const { svc, reads } = world(10_000, 'v1.13');
    const ac = new AbortController();
    const pending = svc.ListVolumes(listRequest, { logger, signal: ac.signal });
    while (reads.length < 20) await new Promise((r) => setImmediate(r));
    ac.abort(new CsiError(status.CANCELLED, 'the client cancelled the call'));
    await assert.rejects(pending, (err) => err instanceof CsiError && err.code === status.CANCELLED);
    const atRejection = reads.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(reads.length < 100, `read ${reads.length} of 10,000 entries`);
    assert.equal(reads.length, atRejection, 'no entry was read after the answer');
  });

  it('stops looking at volumes in ControllerListVolumeHealth once the client is gone', async () => {
    let looks = 0;
    const ac = new AbortController();
    const inspect = async (): Promise<VolumeInspection> => {
      if (++looks === 10) ac.abort(new CsiError(status.CANCELLED, 'gone'));
      await new Promise((r) => setImmediate(r));
      return { exists: true, accessible: true, metadataIntact: true };
    };
    const { svc } = world(2_000, 'both', { inspect });
    await assert.rejects(
      svc.ControllerListVolumeHealth({ ...listRequest, secrets: {} }, { logger, signal: ac.signal }),
      (err) => err instanceof CsiError && err.code === status.CANCELLED,
    );
    // Volumes are looked at 8 to a round trip, 4 round trips at once: what was in flight at the abort, no more.
    assert.ok(looks <= 4 * 8, `looked at ${looks} of 2,000 volumes`);
  });
});
