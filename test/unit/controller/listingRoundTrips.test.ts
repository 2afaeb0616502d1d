import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ShareStore } from '../../../src/backend/shareStore';
import { ShareRecordStore } from '../../../src/backend/shareRecordStore';
import { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import type { VolumeRecord } from '../../../src/backend/records';
import { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';
import { RecordCorruptError } from '../../../src/backend/recordErrors';
import { inGroupsOf } from '../../../src/inGroupsOf';
import { countedPool } from '../../helpers/countedPool';

const rec = (id: string): VolumeRecord => ({ id, name: id, capacityBytes: 1024n, parameters: {}, createdAt: '2026-12-07T09:00:00.000Z' });
const snapshotJson = (id: string): string =>
  JSON.stringify({
    id,
    name: `snapshot ${id}`,
    sourceVolumeId: 'vol-00',
    sizeBytes: 10,
    createdAt: '2026-12-07T09:00:00.000Z',
    parameters: {},
  });
const json = (v: object): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));

describe('inGroupsOf', () => {
  it('cuts a list into groups in order, the last one shorter', () => {
    assert.deepEqual(inGroupsOf([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(inGroupsOf([], 3), []);
    assert.throws(() => inGroupsOf([1], 0), RangeError);
  });
});

describe('listings in few round trips (helper process, real share)', () => {
  let pool: FsHelperPool;
  let root: string;
  let share: string;
  let store: ShareStore;
  let catalog: VolumeCatalog;
  let records: ShareRecordStore;
  const ops: string[] = [];
  const counted = countedPool(() => pool, ops);

  before(async () => {
    pool = new FsHelperPool({ maxIdle: 1 });
    root = mkdtempSync(path.join(os.tmpdir(), 'list-trips-'));
    share = path.join(root, 'share');
    mkdirSync(share);
    store = new ShareStore(async () => share, { pool: counted });
    const registry = new VolumeRegistry(async () => share, counted);
    catalog = new VolumeCatalog(store, registry);
    records = new ShareRecordStore(async () => share, counted);
    await store.ensureLayout();
    await catalog.init();
    // 40 registered volumes, each with its directory and volume.json.
    for (let i = 0; i < 40; i++) {
      const id = `vol-${String(i).padStart(2, '0')}`;
      mkdirSync(path.join(share, 'volumes', id, 'data'), { recursive: true });
      writeFileSync(path.join(share, 'volumes', id, 'volume.json'), json(rec(id)));
      writeFileSync(path.join(share, VolumeRegistry.entryPath(id)), json(rec(id)));
    }
  });
  beforeEach(() => {
    ops.length = 0;
  });
  after(() => {
    pool.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads the entries of 40 volumes in 3 round trips, in order, each as one volume would be read', async () => {
    const ids = await catalog.ids();
    assert.equal(ids.length, 40);
    ops.length = 0;
    const entries = await catalog.entries(ids);
    assert.deepEqual(ops, ['batch', 'batch', 'batch'], '16 volumes a round trip');
    assert.deepEqual(
      entries.map((e) => e.id),
      ids,
    );
    for (const e of entries) {
      assert.equal(e.registered, true);
      assert.equal(e.rec?.id, e.id);
      assert.deepEqual(e, await catalog.entry(e.id), `${e.id} as a lookup of it alone finds it`);
    }
  });

  it('leaves out a volume gone meanwhile and keeps a corrupt entry with its problem', async () => {
    const gone = 'vol-03';
    const bad = 'vol-17';
    const badEntry = path.join(share, VolumeRegistry.entryPath(bad));
    const goneEntry = path.join(share, VolumeRegistry.entryPath(gone));
    writeFileSync(badEntry, '{ not json');
    unlinkSync(goneEntry);
    rmSync(path.join(share, 'volumes', gone), { recursive: true });
    try {
      const entries = await catalog.entries(['vol-00', gone, bad, 'vol-39']);
      assert.deepEqual(ops, ['batch'], 'one round trip');
      assert.deepEqual(
        entries.map((e) => e.id),
        ['vol-00', bad, 'vol-39'],
      );
      const b = entries.find((e) => e.id === bad)!;
      assert.match(b.registryProblem ?? '', /not valid JSON/);
      assert.equal(b.rec?.id, bad, 'volume.json stands in for the corrupt entry');
    } finally {
      writeFileSync(badEntry, json(rec(bad)));
      mkdirSync(path.join(share, 'volumes', gone, 'data'), { recursive: true });
      writeFileSync(path.join(share, 'volumes', gone, 'volume.json'), json(rec(gone)));
      writeFileSync(goneEntry, json(rec(gone)));
    }
  });

  it('fails the whole listing when the storage fails one read, never a shorter answer', async () => {
    const entry = path.join(share, VolumeRegistry.entryPath('vol-25'));
    unlinkSync(entry);
    // A read the storage cannot answer (ELOOP): neither absent nor a record.
    symlinkSync(path.basename(entry), entry);
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `vol-${String(i).padStart(2, '0')}`);
      await assert.rejects(catalog.entries(ids), (err: unknown) => err instanceof IsolatedFsError && err.code === 'ELOOP');
    } finally {
      unlinkSync(entry);
      writeFileSync(entry, json(rec('vol-25')));
    }
  });

  it('finds finished volumes that are not registered in one round trip per group', async () => {
    for (const id of ['late-a', 'late-b']) {
      mkdirSync(path.join(share, 'volumes', id, 'data'), { recursive: true });
      writeFileSync(path.join(share, 'volumes', id, 'volume.json'), json(rec(id)));
    }
    // An unfinished create: a directory without volume.json is no volume.
    mkdirSync(path.join(share, 'volumes', 'late-unfinished', 'data'), { recursive: true });
    try {
      const ids = await catalog.ids();
      assert.deepEqual(
        ops.filter((o) => o === 'batch'),
        ['batch'],
        'the three unregistered directories in one round trip',
      );
      assert.ok(ids.includes('late-a') && ids.includes('late-b'));
      assert.ok(!ids.includes('late-unfinished'));
    } finally {
      for (const id of ['late-a', 'late-b', 'late-unfinished']) rmSync(path.join(share, 'volumes', id), { recursive: true });
    }
  });

  it('lists snapshots in one round trip per 32, leaving out unfinished and corrupt ones', async () => {
    const snapDir = (id: string) => path.join(share, 'snapshots', id);
    for (let i = 0; i < 35; i++) {
      const id = `snap-${String(i).padStart(2, '0')}`;
      mkdirSync(snapDir(id), { recursive: true });
      writeFileSync(path.join(snapDir(id), 'snapshot.json'), snapshotJson(id));
    }
    mkdirSync(snapDir('snap-unfinished'));
    mkdirSync(snapDir('snap-other'));
    writeFileSync(path.join(snapDir('snap-other'), 'snapshot.json'), snapshotJson('snap-00'));
    try {
      assert.equal((await store.snapshots.get('snap-00'))?.id, 'snap-00', 'a record the schema accepts');
      await assert.rejects(
        store.snapshots.get('snap-other'),
        (err: unknown) => err instanceof RecordCorruptError && /names another record/.test(err.message),
      );
      ops.length = 0;
      const list = await store.snapshots.list();
      assert.deepEqual(ops, ['readdir', 'batch', 'batch'], '37 directories: 32 and 5');
      assert.deepEqual(
        list.map((s) => s.id),
        Array.from({ length: 35 }, (_, i) => `snap-${String(i).padStart(2, '0')}`),
      );
    } finally {
      rmSync(path.join(share, 'snapshots'), { recursive: true });
      mkdirSync(path.join(share, 'snapshots'));
    }
  });

  it('finds the attachments of a node and the nodes of a volume in one round trip per group', async () => {
    for (let n = 0; n < 3; n++) {
      for (let v = 0; v < 40; v += n + 1) {
        await records.putPublish({
          volumeId: `vol-${String(v).padStart(2, '0')}`,
          nodeId: `node-${n}`,
          readonly: false,
          accessMode: 'SINGLE_NODE_WRITER',
          publishContext: {},
          publishedAt: '2026-12-07T09:00:00.000Z',
        });
      }
    }
    ops.length = 0;
    const published = await records.publishesOfNode('node-1');
    assert.deepEqual(ops, ['readdir', 'batch'], '20 records in one round trip');
    assert.equal(published.length, 20);
    assert.ok(published.every((p) => p.nodeId === 'node-1'));
    ops.length = 0;
    assert.deepEqual(await records.nodesOfVolume('vol-06'), ['node-0', 'node-1', 'node-2']);
    assert.deepEqual(await records.nodesOfVolume('vol-01'), ['node-0']);
    assert.deepEqual(ops, ['readdir', 'batch', 'readdir', 'batch']);
    // A record that is not JSON is reported, not skipped: it may hold a slot.
    writeFileSync(path.join(share, 'attachments', 'node-2', 'vol-03.json'), '{');
    await assert.rejects(records.publishesOfNode('node-2'), RecordCorruptError);
  });
});
