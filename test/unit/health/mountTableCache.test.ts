import { strict as assert } from 'node:assert';
import { MountTableCache } from '../../../src/health/mountTableCache';
import type { MountEntry } from '../../../src/mount/mountTable';

const entry = (mountPoint: string, mountId: number): MountEntry => ({
  mountId,
  parentId: 1,
  device: '0:1',
  root: '/',
  mountPoint,
  options: ['rw'],
  fsType: 'tmpfs',
  source: 'tmpfs',
  superOptions: ['rw'],
});

describe('MountTableCache', () => {
  it('serves one read for its age, reads again after it or when invalidated, and keeps its index while the entries are the same', async () => {
    let now = 0;
    let entries = [entry('/a', 10)];
    let reads = 0;
    const cache = new MountTableCache(
      async () => {
        reads++;
        return entries;
      },
      { now: () => now, random: () => 0 },
      1000,
    );
    const first = await cache.get();
    assert.equal(first.get('/a')?.mountId, 10);
    now = 500;
    assert.equal(await cache.get(), first);
    assert.equal(reads, 1, 'one read within its age');
    now = 1600;
    assert.equal(await cache.get(), first, 'read again, the same entries: the same index');
    assert.equal(reads, 2);
    entries = [entry('/a', 10), entry('/b', 11)];
    cache.invalidate();
    const third = await cache.get();
    assert.equal(reads, 3, 'invalidated: read again at once');
    assert.notEqual(third, first);
    assert.equal(third.get('/b')?.mountId, 11, 'new entries, a new index');
  });
});
