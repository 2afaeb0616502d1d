import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import type { MountRegistration } from '../../../src/health/mountRegistration';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';
import { NodeStateCorruptError, NodeStateWriteError } from '../../../src/node/nodeStateErrors';
import { NodeStateStore } from '../../../src/node/nodeStateStore';
import { restoreNodeState } from '../../../src/node/restoreNodeState';
import { durableStateFileIo } from '../../../src/node/stateFileIo';
import type { MountEntry } from '../../../src/mount/mountTable';
import { MemoryStateFileIo } from '../../helpers/memoryStateFileIo';

const file = '/state/node-mounts.json';
const staging = (id: string): MountRegistration => ({
  volumeId: id,
  path: `/kubelet/plugins/${id}/globalmount`,
  kind: 'staging',
  readOnly: false,
  expectedSource: '',
  source: { kind: 'bind', path: `/share/volumes/${id}/data` },
});
const paths = (io: MemoryStateFileIo): string[] => (JSON.parse(io.files.get(file) ?? '[]') as MountRegistration[]).map((m) => m.path);

function entry(mountId: number, mountPoint: string, root: string, options = ['rw']): MountEntry {
  return { mountId, parentId: 1, device: '8:1', root, mountPoint, options, fsType: 'ext4', source: '/dev/sda1', superOptions: [] };
}

/** A store whose first write (of record a) has started and waits on a slow disk until `release`. */
async function firstWriteHeld(): Promise<{ io: MemoryStateFileIo; store: NodeStateStore; release: () => void; first: Promise<void> }> {
  const io = new MemoryStateFileIo();
  const store = new NodeStateStore('/state', io);
  const release = io.holdWrites();
  const first = store.put(staging('a'));
  await new Promise((r) => setImmediate(r));
  return { io, store, release, first };
}

describe('NodeStateStore', () => {
  it('a write that fails once does not fail the writes after it, and the next write repairs the file', async () => {
    const io = new MemoryStateFileIo();
    const store = new NodeStateStore('/state', io);
    io.failNext.push(new Error('EIO: disk hiccup'));
    await assert.rejects(
      store.put(staging('a')),
      (err: unknown) => err instanceof NodeStateWriteError && /EIO: disk hiccup/.test(err.message),
    );
    await store.put(staging('b'));
    await store.remove(staging('b').path);
    await store.put(staging('c'));
    // The record of the failed write was kept in memory and reached the disk with the next write.
    assert.deepEqual(paths(io), [staging('a').path, staging('c').path]);
  });

  it('changes made while a write is in flight share one write behind it, which carries them all', async () => {
    const { io, store, release, first } = await firstWriteHeld();
    assert.equal(io.writes, 1, 'the first write started');
    const later = [store.put(staging('b')), store.put(staging('c')), store.remove(staging('a').path)];
    release();
    await Promise.all([first, ...later]);
    assert.equal(io.writes, 2, 'three changes during the first write made one more write, not three');
    assert.deepEqual(
      io.written.map((t) => (JSON.parse(t) as MountRegistration[]).map((m) => m.volumeId)),
      [['a'], ['b', 'c']],
    );
    // Each write carries the list as it is when it starts, written compactly.
    assert.equal(io.written[1], JSON.stringify([staging('b'), staging('c')]));
  });

  it('a failed write rejects every change that shared it, and the next change writes them all', async () => {
    const { io, store, release, first } = await firstWriteHeld();
    io.failNext.push(new Error('ENOSPC'));
    const shared = [store.put(staging('b')), store.put(staging('c'))];
    // The first write takes the error queued before it runs; the second (shared) one succeeds.
    release();
    const results = await Promise.allSettled([first, ...shared]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    io.failNext.push(new Error('EIO'));
    const both = await Promise.allSettled([store.put(staging('d')), store.remove(staging('b').path)]);
    assert.deepEqual(
      both.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    await store.put(staging('e'));
    assert.deepEqual(
      paths(io),
      ['a', 'c', 'd', 'e'].map((id) => staging(id).path),
    );
  });

  it('maps a failed write to UNAVAILABLE with the reason, not INTERNAL "internal error"', () => {
    const mapped = toGrpcStatus(new NodeStateWriteError(file, new Error('EROFS: read-only file system')));
    assert.equal(mapped.code, status.UNAVAILABLE);
    assert.match(mapped.details, /node state file .* could not be written: EROFS/);
    assert.equal(mapped.unexpected, false);
  });

  it('hands out copies: changing what get, all or byVolume return changes nothing in the store', async () => {
    const store = new NodeStateStore('/state', new MemoryStateFileIo());
    await store.put(staging('a'));
    const got = store.get(staging('a').path);
    assert.ok(got?.source?.kind === 'bind');
    got.volumeId = 'evil';
    got.source.path = '/etc';
    const listed = store.all()[0];
    assert.ok(listed);
    listed.readOnly = true;
    const byVol = store.byVolume('a')[0];
    assert.ok(byVol);
    byVol.path = '/elsewhere';
    assert.deepEqual(store.get(staging('a').path), staging('a'));
  });

  it('does not keep a reference to the record it was given', async () => {
    const store = new NodeStateStore('/state', new MemoryStateFileIo());
    const reg = staging('a');
    await store.put(reg);
    reg.volumeId = 'changed';
    assert.equal(store.get(reg.path)?.volumeId, 'a');
  });

  it('loads a valid file and starts empty without one', async () => {
    const io = new MemoryStateFileIo();
    assert.deepEqual((await new NodeStateStore('/state', io).load()).records, []);
    io.files.set(file, JSON.stringify([staging('a')]));
    const loaded = await new NodeStateStore('/state', io).load();
    assert.deepEqual(loaded.records, [staging('a')]);
    assert.equal(loaded.corrupt, undefined);
  });

  const corruptFiles: Array<[string, string]> = [
    ['text that is not JSON', '[{"volumeId": "a", '],
    ['an object instead of a list', '{"volumeId": "a"}'],
    ['a relative path', JSON.stringify([{ ...staging('a'), path: 'relative/path' }])],
    ['an unknown kind', JSON.stringify([{ ...staging('a'), kind: 'both' }])],
    ['a bind source that is not absolute', JSON.stringify([{ ...staging('a'), source: { kind: 'bind', path: '../../etc' } }])],
    ['a readOnly that is a string', JSON.stringify([{ ...staging('a'), readOnly: 'yes' }])],
    ['an unknown field', JSON.stringify([{ ...staging('a'), extra: 1 }])],
    ['two records for one path', JSON.stringify([staging('a'), { ...staging('a'), volumeId: 'b' }])],
  ];
  for (const [what, text] of corruptFiles) {
    it(`reports a file with ${what} as corrupt, moves it aside and starts empty`, async () => {
      const io = new MemoryStateFileIo();
      io.files.set(file, text);
      const loaded = await new NodeStateStore('/state', io).load();
      assert.ok(loaded.corrupt instanceof NodeStateCorruptError);
      assert.match(loaded.corrupt.message, /node state file \/state\/node-mounts.json is corrupt: /);
      assert.deepEqual(loaded.records, []);
      assert.equal(loaded.setAsideAs, `${file}.corrupt`);
      assert.equal(io.files.get(`${file}.corrupt`), text);
      assert.equal(io.files.has(file), false);
    });
  }

  it('throws when the file cannot be read at all (not the same as corrupt)', async () => {
    const io = new MemoryStateFileIo();
    io.read = () => Promise.reject(new Error('EACCES: permission denied'));
    await assert.rejects(new NodeStateStore('/state', io).load(), /EACCES/);
  });
});

describe('restoreNodeState', () => {
  const kubelet = '/kubelet';
  const table = [
    entry(10, '/', '/'),
    entry(20, '/kubelet/plugins/v1/globalmount', '/srv/share/volumes/v1/data'),
    entry(21, '/kubelet/pods/p1/volumes/v1/mount', '/srv/share/volumes/v1/data', ['ro']),
    entry(22, '/kubelet/pods/p2/volumes/v1/mount', '/srv/share/volumes/v1/data'),
    entry(30, '/kubelet/plugins/v2/globalmount', '/srv/share/volumes/v2/data'),
    // Not ours: outside the kubelet dir, or not a volume's data directory.
    entry(40, '/mnt/volumes/v3/data', '/srv/share/volumes/v3/data'),
    entry(41, '/kubelet/pods/p3/volumes/other/mount', '/srv/other'),
  ];
  const sourceOf = (id: string) => (id === 'v2' ? undefined : ({ kind: 'bind', path: `/srv/share/volumes/${id}/data` } as const));
  const logs: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logs.push(JSON.parse(line)) });

  it('rebuilds the records of a corrupt file from the mount table, and logs it as an error', async () => {
    const io = new MemoryStateFileIo();
    io.files.set(file, 'not json');
    const store = new NodeStateStore('/state', io);
    const restored = await restoreNodeState(store, table, { kubeletDir: kubelet, sourceOf }, logger);
    assert.ok(restored.corrupt instanceof NodeStateCorruptError);
    assert.deepEqual(restored.records, [
      {
        volumeId: 'v1',
        path: '/kubelet/plugins/v1/globalmount',
        kind: 'staging',
        readOnly: false,
        expectedSource: '',
        source: { kind: 'bind', path: '/srv/share/volumes/v1/data' },
      },
      {
        volumeId: 'v1',
        path: '/kubelet/pods/p1/volumes/v1/mount',
        kind: 'publish',
        readOnly: true,
        expectedSource: '',
        stagingPath: '/kubelet/plugins/v1/globalmount',
      },
      {
        volumeId: 'v1',
        path: '/kubelet/pods/p2/volumes/v1/mount',
        kind: 'publish',
        readOnly: false,
        expectedSource: '',
        stagingPath: '/kubelet/plugins/v1/globalmount',
      },
      { volumeId: 'v2', path: '/kubelet/plugins/v2/globalmount', kind: 'staging', readOnly: false, expectedSource: '' },
    ]);
    // The rebuilt list is on disk, the corrupt file kept aside.
    assert.equal(paths(io).length, 4);
    assert.equal(io.files.get(`${file}.corrupt`), 'not json');
    assert.ok(logs.some((l) => (l as { msg: string }).msg.includes('node state file is corrupt')));
  });

  it('keeps the records of a valid file whose mounts are still there and drops the rest', async () => {
    const io = new MemoryStateFileIo();
    const gone = { ...staging('v9'), path: '/kubelet/plugins/v9/globalmount' };
    const kept = { ...staging('v1'), path: '/kubelet/plugins/v1/globalmount' };
    io.files.set(file, JSON.stringify([gone, kept]));
    const restored = await restoreNodeState(new NodeStateStore('/state', io), table, { kubeletDir: kubelet, sourceOf }, logger);
    assert.equal(restored.corrupt, undefined);
    assert.deepEqual(restored.records, [kept]);
    assert.deepEqual(paths(io), [kept.path]);
  });
});

describe('durableStateFileIo', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'node-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, owner-only, leaving no temp file', async () => {
    const f = path.join(dir, 'sub', 'node-mounts.json');
    await durableStateFileIo.write(f, '[1]');
    await durableStateFileIo.write(f, '[2]');
    assert.equal(readFileSync(f, 'utf8'), '[2]');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(path.dirname(f)), ['node-mounts.json']);
    assert.equal(await durableStateFileIo.read(f), '[2]');
    assert.equal(await durableStateFileIo.read(path.join(dir, 'absent.json')), undefined);
  });

  it("a store on the real disk recovers from a failed write (a directory in the temp file's place, then removed)", async () => {
    const store = new NodeStateStore(dir);
    // A directory where the temp file should go makes the write fail, as a full or broken disk would.
    const blocker = path.join(dir, 'node-mounts.json.tmp');
    mkdirSync(path.join(blocker, 'child'), { recursive: true });
    await assert.rejects(store.put(staging('a')), NodeStateWriteError);
    rmSync(blocker, { recursive: true });
    await store.put(staging('b'));
    const onDisk = JSON.parse(readFileSync(store.file, 'utf8')) as MountRegistration[];
    assert.deepEqual(
      onDisk.map((m) => m.volumeId),
      ['a', 'b'],
    );
  });

  it('moves a corrupt file aside', async () => {
    const f = path.join(dir, 'node-mounts.json');
    writeFileSync(f, 'garbage');
    const loaded = await new NodeStateStore(dir).load();
    assert.ok(loaded.corrupt);
    assert.equal(existsSync(f), false);
    assert.equal(readFileSync(`${f}.corrupt`, 'utf8'), 'garbage');
  });
});
