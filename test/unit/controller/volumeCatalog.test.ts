import { strict as assert } from 'node:assert';
import type { RecordRead, VolumeRecord } from '../../../src/backend/records';
import type { ShareStore } from '../../../src/backend/shareStore';
import type { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { withBatchedReads } from '../../helpers/fakeRecordReads';

const rec = (id: string, capacityBytes = 1024n): VolumeRecord => ({
  id,
  name: id,
  capacityBytes,
  parameters: {},
  createdAt: '2026-12-06T10:00:00.000Z',
});

/** Volume directories and registry entries as reads, by id. */
function catalogOf(dirs: Record<string, RecordRead<VolumeRecord>>, entries: Record<string, RecordRead<VolumeRecord>>) {
  const puts: string[] = [];
  const store = {
    volumeDirIds: async () => Object.keys(dirs).sort(),
    readVolume: async (id: string): Promise<RecordRead<VolumeRecord>> => dirs[id] ?? { state: 'absent' },
  } as unknown as ShareStore;
  const registry = {
    ensureLayout: async () => undefined,
    ids: async () => Object.keys(entries).sort(),
    read: async (id: string): Promise<RecordRead<VolumeRecord>> => entries[id] ?? { state: 'absent' },
    put: async (r: VolumeRecord) => {
      puts.push(r.id);
      entries[r.id] = { state: 'ok', rec: r };
    },
  } as unknown as VolumeRegistry;
  withBatchedReads(store, registry);
  return { catalog: new VolumeCatalog(store, registry), puts };
}

describe('VolumeCatalog', () => {
  it('knows registered volumes whatever is left of their directory, finished unregistered ones, and not unfinished creates', async () => {
    const { catalog } = catalogOf(
      {
        'v-old': { state: 'ok', rec: rec('v-old') },
        'v-bad': { state: 'corrupt', problem: 'is not valid JSON' },
        'v-unfinished': { state: 'absent' },
      },
      { 'v-lost': { state: 'ok', rec: rec('v-lost', 5n) } },
    );
    assert.deepEqual(await catalog.ids(), ['v-bad', 'v-lost', 'v-old']);
    assert.deepEqual(await catalog.entry('v-lost'), { id: 'v-lost', rec: rec('v-lost', 5n), registered: true });
    assert.deepEqual(await catalog.entry('v-old'), { id: 'v-old', rec: rec('v-old'), registered: false });
    assert.deepEqual(await catalog.entry('v-bad'), { id: 'v-bad', rec: undefined, registered: false });
    assert.equal(await catalog.entry('v-unfinished'), undefined);
    assert.equal(await catalog.entry('v-never'), undefined);
  });

  it('reports a corrupt registry entry as MetadataCorrupt and falls back to volume.json for the record', async () => {
    const { catalog } = catalogOf(
      { v1: { state: 'ok', rec: rec('v1') } },
      { v1: { state: 'corrupt', problem: 'is invalid: name: expected string' } },
    );
    const e = await catalog.entry('v1');
    assert.deepEqual(e?.rec, rec('v1'));
    assert.deepEqual(VolumeCatalog.issuesOf(e), [
      {
        status: 'DATA_LOSS',
        reason: 'MetadataCorrupt',
        message: 'the registry entry registry/volumes/v1.json of volume v1 is invalid: name: expected string',
      },
    ]);
  });

  it('registers at init every finished volume that has no entry, and nothing else', async () => {
    const { catalog, puts } = catalogOf(
      {
        a: { state: 'ok', rec: rec('a') },
        b: { state: 'ok', rec: rec('b') },
        c: { state: 'absent' },
        d: { state: 'corrupt', problem: 'x' },
      },
      { b: { state: 'ok', rec: rec('b') } },
    );
    assert.equal(await catalog.init(), 1);
    assert.deepEqual(puts, ['a']);
  });
});
