import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ownRecordReadStep, readRecordsTogether, recordReadStep } from '../../../src/backend/recordFile';
import { volumeRecordFormat } from '../../../src/backend/recordSchemas';
import { ShareStore } from '../../../src/backend/shareStore';
import { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { countedPool } from '../../helpers/countedPool';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';

const json = (id: string) => JSON.stringify({ id, name: id, capacityBytes: 1024, parameters: {}, createdAt: '2026-12-07T01:00:00.000Z' });

describe('record reads in one round trip (helper process, real files)', () => {
  let pool: FsHelperPool;
  let root: string;
  const ops: string[] = [];
  /** The pool, counting the round trips made through it. */
  const counted = countedPool(() => pool, ops);
  const t = 30_000;

  before(() => {
    pool = new FsHelperPool({ maxIdle: 1 });
    root = mkdtempSync(path.join(os.tmpdir(), 'record-reads-'));
  });
  beforeEach(() => {
    ops.length = 0;
  });
  after(() => {
    pool.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('decodes each read as readRecordFile would, a storage failure thrown only by its own decode', async () => {
    const dir = path.join(root, 'plain');
    mkdirSync(path.join(dir, 'a-directory'), { recursive: true });
    writeFileSync(path.join(dir, 'ok.json'), json('v1'));
    writeFileSync(path.join(dir, 'torn.json'), '{"id": "v1", "na');
    writeFileSync(path.join(dir, 'other.json'), json('v2'));
    symlinkSync('loop.json', path.join(dir, 'loop.json'));
    const reads = await readRecordsTogether(
      counted,
      'test reads',
      [
        ownRecordReadStep(path.join(dir, 'ok.json'), volumeRecordFormat, 'v1'),
        recordReadStep(path.join(dir, 'missing.json'), volumeRecordFormat),
        recordReadStep(path.join(dir, 'ok.json', 'below-a-file.json'), volumeRecordFormat),
        recordReadStep(path.join(dir, 'torn.json'), volumeRecordFormat),
        ownRecordReadStep(path.join(dir, 'other.json'), volumeRecordFormat, 'v1'),
        recordReadStep(path.join(dir, 'a-directory'), volumeRecordFormat),
        recordReadStep(path.join(dir, 'loop.json'), volumeRecordFormat),
      ],
      t,
    );
    assert.deepEqual(ops, ['batch'], 'one round trip');
    const [ok, missing, belowFile, torn, other, directory, loop] = reads.map((r) => r);
    const got = ok!();
    assert.equal(got.state === 'ok' && got.rec.id, 'v1');
    assert.deepEqual(missing!(), { state: 'absent' });
    assert.deepEqual(belowFile!(), { state: 'absent' });
    assert.equal(torn!().state, 'corrupt');
    assert.deepEqual(other!(), { state: 'corrupt', problem: 'names another volume (v2)' });
    assert.deepEqual(directory!(), { state: 'corrupt', problem: 'is not a record file (EISDIR)' });
    assert.throws(loop!, (err: unknown) => err instanceof IsolatedFsError && err.code === 'ELOOP' && err.path.endsWith('loop.json'));
  });

  describe('VolumeCatalog.entry on a real share', () => {
    let share: string;
    let catalog: VolumeCatalog;
    let store: ShareStore;
    before(async () => {
      share = path.join(root, 'share');
      mkdirSync(share);
      store = new ShareStore(async () => share, { pool: counted });
      catalog = new VolumeCatalog(store, new VolumeRegistry(async () => share, counted));
      await catalog.init();
      for (const id of ['registered', 'unregistered', 'registered-unreadable'])
        mkdirSync(path.join(share, 'volumes', id), { recursive: true });
      writeFileSync(path.join(share, 'registry', 'volumes', 'registered.json'), json('registered'));
      writeFileSync(path.join(share, 'volumes', 'registered', 'volume.json'), json('registered'));
      writeFileSync(path.join(share, 'volumes', 'unregistered', 'volume.json'), json('unregistered'));
      writeFileSync(path.join(share, 'registry', 'volumes', 'registered-unreadable.json'), json('registered-unreadable'));
      symlinkSync('volume.json', path.join(share, 'volumes', 'registered-unreadable', 'volume.json'));
    });

    it('reads the registry entry and volume.json in one round trip', async () => {
      const e = await catalog.entry('registered');
      assert.equal(e?.registered, true);
      assert.equal(e?.rec?.id, 'registered');
      assert.deepEqual(ops, ['batch']);
    });

    it('finds a volume from its volume.json alone, and no volume where neither exists', async () => {
      const e = await catalog.entry('unregistered');
      assert.deepEqual([e?.registered, e?.rec?.id], [false, 'unregistered']);
      assert.equal(await catalog.entry('never-made'), undefined);
      assert.deepEqual(ops, ['batch', 'batch']);
    });

    it('answers from a usable registry entry even when volume.json cannot be read', async () => {
      const e = await catalog.entry('registered-unreadable');
      assert.deepEqual([e?.registered, e?.rec?.id], [true, 'registered-unreadable']);
    });

    it("reads the share's size along with the records, in the same round trip (CreateVolume)", async () => {
      const found = await catalog.entryAlong('never-made', await store.capacityStep());
      assert.equal(found.entry, undefined);
      const direct = await store.capacity();
      assert.deepEqual(ops, ['batch', 'statfs'], 'one round trip for the records and the size; the second is the check');
      assert.equal(found.also().totalBytes, direct.totalBytes);
      assert.ok(found.also().totalBytes > 0n);
    });

    it('throws a failed statfs only when the size is looked at', async () => {
      const gone = new ShareStore(async () => path.join(root, 'no-such-share'), { pool: counted });
      const goneCatalog = new VolumeCatalog(gone, new VolumeRegistry(async () => path.join(root, 'no-such-share'), counted));
      const found = await goneCatalog.entryAlong('v1', await gone.capacityStep());
      assert.equal(found.entry, undefined, 'no records: no volume');
      assert.throws(found.also, (err: unknown) => err instanceof IsolatedFsError && err.op === 'statfs' && err.code === 'ENOENT');
    });

    it('throws the failure of volume.json when the registry has no usable entry', async () => {
      rmSync(path.join(share, 'registry', 'volumes', 'registered-unreadable.json'));
      await assert.rejects(
        catalog.entry('registered-unreadable'),
        (err: unknown) => err instanceof IsolatedFsError && err.code === 'ELOOP',
      );
    });
  });
});
