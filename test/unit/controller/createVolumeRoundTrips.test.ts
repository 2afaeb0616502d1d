import { strict as assert } from 'node:assert';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { ShareStore } from '../../../src/backend/shareStore';
import { VolumeRegistry } from '../../../src/backend/volumeRegistry';
import { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { createVolume } from '../../../src/controller/createVolume';
import { CsiError } from '../../../src/grpc/csiError';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { countedPool } from '../../helpers/countedPool';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';
import type { CreateVolumeRequest__Output } from '../../../src/gen/csi/v1/CreateVolumeRequest';
import { mountCap } from '../../helpers/publish';

const gib = 1024n ** 3n;

function request(name: string, bytes: bigint): CreateVolumeRequest__Output {
  return {
    name,
    volume_capabilities: [{ ...mountCap, access_type: 'mount' }],
    capacity_range: { required_bytes: String(bytes), limit_bytes: '0' },
    parameters: {},
    secrets: {},
    volume_content_source: null,
    accessibility_requirements: null,
    mutable_parameters: {},
  } as unknown as CreateVolumeRequest__Output;
}

describe('CreateVolume round trips (helper process, real share)', () => {
  let pool: FsHelperPool;
  let root: string;
  let share: string;
  let store: ShareStore;
  let catalog: VolumeCatalog;
  const ops: string[] = [];
  /** The pool, counting the round trips made through it. */
  const counted = countedPool(() => pool, ops);
  const ctx = { backend: 'local' as const };
  const create = (name: string, bytes = gib) => createVolume(store, catalog, ctx, request(name, bytes));

  before(async () => {
    pool = new FsHelperPool({ maxIdle: 1 });
    root = mkdtempSync(path.join(os.tmpdir(), 'create-trips-'));
    share = path.join(root, 'share');
    mkdirSync(share);
    store = new ShareStore(async () => share, { pool: counted });
    catalog = new VolumeCatalog(store, new VolumeRegistry(async () => share, counted));
    await store.ensureLayout();
    await catalog.init();
  });
  beforeEach(() => {
    ops.length = 0;
  });
  after(() => {
    pool.close();
    rmSync(root, { recursive: true, force: true });
  });

  const volumeDir = (id: string) => path.join(share, 'volumes', id);
  const entryFile = (id: string) => path.join(share, VolumeRegistry.entryPath(id));

  it('makes and registers a new empty volume in the round trip that finds it new', async () => {
    const res = await create('trip-new');
    assert.equal(res.volume?.volume_id, 'trip-new');
    assert.deepEqual(ops, ['batch'], 'one round trip');
    assert.ok(statSync(path.join(volumeDir('trip-new'), 'data')).isDirectory());
    const rec = JSON.parse(readFileSync(path.join(volumeDir('trip-new'), 'volume.json'), 'utf8')) as { id: string; capacityBytes: number };
    assert.deepEqual([rec.id, String(rec.capacityBytes)], ['trip-new', String(gib)]);
    assert.deepEqual(JSON.parse(readFileSync(entryFile('trip-new'), 'utf8')), rec, 'the registry holds the same record');
  });

  it('answers an existing volume from the same round trip and writes nothing', async () => {
    await create('trip-again');
    const before = readFileSync(entryFile('trip-again'), 'utf8');
    const mtime = statSync(entryFile('trip-again')).mtimeMs;
    ops.length = 0;
    const res = await create('trip-again');
    assert.equal(res.volume?.volume_id, 'trip-again');
    assert.deepEqual(ops, ['batch']);
    assert.equal(readFileSync(entryFile('trip-again'), 'utf8'), before, 'the record is the first one (its createdAt too)');
    assert.equal(statSync(entryFile('trip-again')).mtimeMs, mtime);
    await assert.rejects(create('trip-again', 4n * gib), (err: unknown) => err instanceof CsiError && err.code === status.ALREADY_EXISTS);
    assert.equal(readFileSync(entryFile('trip-again'), 'utf8'), before);
  });

  it('clears what an earlier attempt left, in a second round trip, never in the first', async () => {
    mkdirSync(path.join(volumeDir('trip-leftover'), 'data'), { recursive: true });
    writeFileSync(path.join(volumeDir('trip-leftover'), 'data', 'stale'), 'from an attempt that died');
    await create('trip-leftover');
    assert.deepEqual(ops, ['batch', 'batch']);
    assert.equal(existsSync(path.join(volumeDir('trip-leftover'), 'data', 'stale')), false);
    assert.ok(existsSync(path.join(volumeDir('trip-leftover'), 'volume.json')));
    assert.ok(existsSync(entryFile('trip-leftover')));
  });

  it('never makes anything through a symlink where the volume directory would be', async () => {
    const outside = path.join(root, 'outside');
    symlinkSync(outside, volumeDir('trip-link'));
    await create('trip-link');
    assert.deepEqual(ops, ['batch', 'batch'], 'the link is no missing directory');
    assert.equal(existsSync(outside), false, 'nothing was made where the link led');
    assert.ok(lstatSync(volumeDir('trip-link')).isDirectory(), 'a real directory replaced the link');
  });

  it('makes nothing when the share is too small, and says OUT_OF_RANGE', async () => {
    await assert.rejects(create('trip-huge', 1n << 60n), (err: unknown) => err instanceof CsiError && err.code === status.OUT_OF_RANGE);
    assert.deepEqual(ops, ['batch'], 'the size came with the records');
    assert.equal(existsSync(volumeDir('trip-huge')), false);
    assert.equal(existsSync(entryFile('trip-huge')), false);
  });

  it('removes what it made when a step of the making fails', async () => {
    // The registry turns read-only: the reads find nothing, the making starts, the registration (its last step) fails.
    const registryDir = path.dirname(entryFile('x'));
    execFileSync('mount', ['--bind', registryDir, registryDir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', registryDir]);
      await assert.rejects(
        create('trip-broken'),
        (err: unknown) => err instanceof IsolatedFsError && err.op === 'writeFileAtomic' && err.code === 'EROFS',
      );
      assert.deepEqual(ops.slice(0, 1), ['batch'], 'the making ran in the first round trip');
      assert.equal(existsSync(volumeDir('trip-broken')), false, 'the volume directory made before the failure is gone');
      assert.equal(existsSync(entryFile('trip-broken')), false);
    } finally {
      execFileSync('umount', [registryDir]);
    }
  });
});
