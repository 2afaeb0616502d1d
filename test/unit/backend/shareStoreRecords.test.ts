import { strict as assert } from 'node:assert';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import { ShareStore } from '../../../src/backend/shareStore';
import { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import { RecordCorruptError } from '../../../src/backend/recordErrors';

/** A share in memory: files with their text, directories as a set; `fail` makes chosen paths fail. */
function memoryShare(files: Record<string, string>, dirs: string[], fail: (req: FsRequest) => Error | undefined = () => undefined) {
  const dirSet = new Set(dirs);
  const enoent = (req: FsRequest): IsolatedFsError => new IsolatedFsError(req.op, req.path, 'ENOENT', `ENOENT: ${req.path}`);
  const pool = {
    async run(req: FsRequest): Promise<unknown> {
      const err = fail(req);
      if (err) throw err;
      switch (req.op) {
        case 'batch': {
          // Steps in order; a tolerated IsolatedFsError is an outcome, any other error ends the batch.
          const outcomes: unknown[] = [];
          for (const step of req.steps) {
            try {
              outcomes.push({ ok: true, value: await pool.run(step.req, 0) });
            } catch (e) {
              if (!(e instanceof IsolatedFsError) || (step.tolerate !== 'all' && !step.tolerate?.includes(e.code))) throw e;
              outcomes.push({ ok: false, code: e.code, message: e.message });
            }
          }
          return outcomes;
        }
        case 'readFile':
          if (files[req.path] === undefined) throw enoent(req);
          return files[req.path];
        case 'readdir': {
          if (!dirSet.has(req.path)) throw enoent(req);
          const names = [...Object.keys(files), ...dirSet]
            .filter((p) => p.startsWith(`${req.path}/`))
            .map((p) => p.slice(req.path.length + 1).split('/')[0]!);
          return [...new Set(names)];
        }
        case 'exists':
          return dirSet.has(req.path) || files[req.path] !== undefined;
        case 'stat':
          if (dirSet.has(req.path)) return { isDirectory: true, isFile: false, size: 0, mode: 0o40777, mtimeMs: 0, dev: 1 };
          if (files[req.path] !== undefined)
            return { isDirectory: false, isFile: true, size: files[req.path]!.length, mode: 0o100644, mtimeMs: 0, dev: 1 };
          throw enoent(req);
        default:
          throw new Error(`unexpected ${req.op}`);
      }
    },
  } as unknown as FsHelperPool;
  return new ShareStore(async () => '/share', { pool });
}

const rec = (id: string, extra: object = {}) =>
  JSON.stringify({ id, name: id, capacityBytes: 1024, parameters: {}, createdAt: '2026-12-06T10:00:00.000Z', ...extra });
const snap = (id: string) =>
  JSON.stringify({ id, name: id, sourceVolumeId: 'pvc-1', sizeBytes: 10, parameters: {}, createdAt: '2026-12-06T10:00:00.000Z' });

describe('ShareStore records', () => {
  it('lists usable snapshots, leaves out absent and corrupt ones', async () => {
    const store = memoryShare(
      {
        '/share/snapshots/s1/snapshot.json': snap('s1'),
        '/share/snapshots/s3/snapshot.json': '{"id":',
        '/share/snapshots/s4/snapshot.json': snap('other'),
      },
      ['/share/snapshots', '/share/snapshots/s1', '/share/snapshots/s2', '/share/snapshots/s3', '/share/snapshots/s4'],
    );
    assert.deepEqual(
      (await store.snapshots.list()).map((s) => s.id),
      ['s1'],
    );
  });

  it('fails the listing when one record read times out, instead of leaving it out', async () => {
    const store = memoryShare(
      { '/share/snapshots/s1/snapshot.json': snap('s1'), '/share/snapshots/s2/snapshot.json': snap('s2') },
      ['/share/snapshots', '/share/snapshots/s1', '/share/snapshots/s2'],
      (req) => (req.path === '/share/snapshots/s2/snapshot.json' ? new IsolationTimeoutError('readFile', req.path, 10_000) : undefined),
    );
    await assert.rejects(store.snapshots.list(), IsolationTimeoutError);
  });

  it('throws RecordCorruptError, saying what is wrong, for a corrupt volume.json or snapshot.json', async () => {
    const store = memoryShare(
      { '/share/volumes/v1/volume.json': rec('v1', { capacityBytes: 'lots' }), '/share/snapshots/s1/snapshot.json': 'not json' },
      ['/share/volumes', '/share/volumes/v1', '/share/snapshots', '/share/snapshots/s1'],
    );
    await assert.rejects(
      store.getVolume('v1'),
      (err) => err instanceof RecordCorruptError && /volumes\/v1\/volume.json is invalid: capacityBytes/.test(err.message),
    );
    await assert.rejects(store.snapshots.get('s1'), (err) => err instanceof RecordCorruptError && /is not valid JSON/.test(err.message));
    assert.equal(await store.getVolume('v2'), undefined, 'absent is no error');
  });
});

describe('ShareStore.inspectVolume', () => {
  const dirs = [
    '/share/volumes',
    '/share/volumes/ok',
    '/share/volumes/ok/data',
    '/share/volumes/nodata',
    '/share/volumes/badmeta',
    '/share/volumes/badmeta/data',
  ];
  const files = {
    '/share/volumes/ok/volume.json': rec('ok'),
    '/share/volumes/nodata/volume.json': rec('nodata'),
    '/share/volumes/badmeta/volume.json': rec('someone-else'),
  };

  it('tells a vanished directory, a missing data/ and corrupt metadata apart', async () => {
    const store = memoryShare(files, dirs);
    const ok = await store.inspectVolume('ok');
    assert.deepEqual([ok.exists, ok.accessible, ok.metadataIntact, ok.record?.capacityBytes], [true, true, true, 1024n]);
    const gone = await store.inspectVolume('gone');
    assert.deepEqual([gone.exists, gone.message], [false, 'the directory volumes/gone is gone from the share']);
    const nodata = await store.inspectVolume('nodata');
    assert.deepEqual(
      [nodata.exists, nodata.dataMissing, nodata.metadataIntact, nodata.message],
      [true, true, true, 'data/ of volume nodata is missing'],
    );
    const badmeta = await store.inspectVolume('badmeta');
    assert.deepEqual(
      [badmeta.exists, badmeta.accessible, badmeta.metadataIntact, badmeta.metadataProblem],
      [true, true, false, 'names another volume (someone-else)'],
    );
  });

  it('looks at many volumes in one round trip, each answered as a look at it alone would be', async () => {
    const ops: string[] = [];
    const store = memoryShare(files, dirs, (req) => {
      ops.push(req.op);
      return undefined;
    });
    const ids = ['ok', 'gone', 'nodata', 'badmeta'];
    const together = await store.inspectVolumes(ids);
    assert.equal(ops[0], 'batch', 'one batch');
    assert.equal(ops.filter((o) => o === 'batch').length, 1);
    for (const [i, id] of ids.entries()) assert.deepEqual(together[i], await store.inspectVolume(id), id);
  });

  it('reports a volume whose directory the storage cannot look at as not answering, apart from the others', async () => {
    const eio = (req: FsRequest) =>
      req.op === 'exists' && req.path === '/share/volumes/nodata'
        ? new IsolatedFsError('exists', req.path, 'EIO', 'EIO: i/o error')
        : undefined;
    const [ok, broken] = await memoryShare(files, dirs, eio).inspectVolumes(['ok', 'nodata']);
    assert.deepEqual([ok!.exists, ok!.accessible, ok!.metadataIntact], [true, true, true]);
    assert.deepEqual([broken!.exists, broken!.accessible, broken!.code, broken!.message], [true, false, 'EIO', 'EIO: i/o error']);
  });

  it('looks at the volumes of a group one by one when the group overstays its deadline on a share that answers slowly', async () => {
    const batches: number[] = [];
    // Slow but alive: a batch of one volume's look fits in the deadline, a group of them does not.
    const slowShare = memoryShare(files, dirs, (req) => {
      if (req.op !== 'batch') return undefined;
      batches.push(req.steps.length);
      return req.steps.length > 3 ? new IsolationTimeoutError('batch', req.path, 3000) : undefined;
    });
    const ids = ['ok', 'nodata', 'badmeta'];
    const looks = await slowShare.inspectVolumes(ids);
    assert.deepEqual(batches, [9, 3, 3, 3], 'the group, then each volume alone');
    assert.ok(
      looks.every((l) => l.code !== 'ETIMEDOUT'),
      'no volume is reported not answering',
    );
    const plain = memoryShare(files, dirs);
    for (const [i, id] of ids.entries()) assert.deepEqual(looks[i], await plain.inspectVolume(id), id);
  });

  it('reports every volume of a group not answering after two round trips when the share is hung', async () => {
    const batches: number[] = [];
    const hung = memoryShare(files, dirs, (req) => {
      if (req.op !== 'batch') return undefined;
      batches.push(req.steps.length);
      return new IsolationTimeoutError('batch', req.path, 3000);
    });
    const looks = await hung.inspectVolumes(['ok', 'nodata', 'badmeta']);
    assert.deepEqual(batches, [9, 3], 'the group, then its first volume alone: no helper lost per volume');
    assert.deepEqual(
      looks.map((l) => [l.exists, l.accessible, l.code]),
      Array.from({ length: 3 }, () => [true, false, 'ETIMEDOUT']),
    );
  });

  it('reports a timeout as the volume not answering, and rethrows an exhausted pool (which says nothing about the volume)', async () => {
    const slow = memoryShare(files, dirs, (req) => (req.op === 'stat' ? new IsolationTimeoutError('stat', req.path, 3000) : undefined));
    const t = await slow.inspectVolume('ok');
    assert.deepEqual([t.exists, t.accessible, t.code], [true, false, 'ETIMEDOUT']);
    const exhausted = memoryShare(files, dirs, () => new HelpersExhaustedError(4));
    await assert.rejects(exhausted.inspectVolume('ok'), HelpersExhaustedError);
    // A timeout of a batch of looks: every volume in it is reported not answering.
    const both = await slow.inspectVolumes(['ok', 'nodata']);
    assert.deepEqual(
      both.map((t) => [t.exists, t.accessible, t.code]),
      [
        [true, false, 'ETIMEDOUT'],
        [true, false, 'ETIMEDOUT'],
      ],
    );
  });
});

describe('VolumeRegistry', () => {
  it('lists entries by id, without the temp files of unfinished writes, and treats a missing directory as empty', async () => {
    const pool = {
      async run(req: FsRequest) {
        assert.equal(req.op, 'readdir');
        return ['pvc-b.json', 'pvc-a.json', 'pvc-a.json.tmp-12-abcd', '.json', '..json', '...json', 'notes'];
      },
    } as unknown as FsHelperPool;
    assert.deepEqual(await new VolumeRegistry(async () => '/share', pool).ids(), ['pvc-a', 'pvc-b']);
    const none = {
      run: async (req: FsRequest) => Promise.reject(new IsolatedFsError(req.op, req.path, 'ENOENT', 'ENOENT')),
    } as unknown as FsHelperPool;
    assert.deepEqual(await new VolumeRegistry(async () => '/share', none).ids(), []);
  });
});
