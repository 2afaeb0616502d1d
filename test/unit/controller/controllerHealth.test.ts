import { strict as assert } from 'node:assert';
import type { VolumeInspection } from '../../../src/backend/records';
import { ControllerHealth } from '../../../src/controller/controllerHealth';

/** A share where the named volumes time out and the others are fine; counts the looks. */
function fakeStore(frozen: Set<string>) {
  const looks: string[] = [];
  return {
    looks,
    async inspectVolume(id: string): Promise<VolumeInspection> {
      looks.push(id);
      return frozen.has(id)
        ? { exists: true, accessible: false, metadataIntact: false, code: 'ETIMEDOUT', message: 'stat timed out after 3000ms' }
        : { exists: true, accessible: true, metadataIntact: true };
    },
    async inspectVolumes(ids: string[]): Promise<VolumeInspection[]> {
      return Promise.all(ids.map((id) => this.inspectVolume(id)));
    },
    async capacity() {
      return { totalBytes: 100n, availableBytes: 50n };
    },
  };
}

describe('ControllerHealth', () => {
  it('answers from a timed-out look for the hold time instead of waiting on frozen storage again', async () => {
    let now = 1_000_000;
    const frozen = new Set(['v-frozen']);
    const store = fakeStore(frozen);
    const health = new ControllerHealth(
      store,
      () => [],
      3000,
      10_000,
      () => now,
    );
    const first = await health.issuesOfAll(['v-frozen', 'v-ok']);
    assert.deepEqual(
      first.get('v-frozen')!.map((i) => i.status),
      ['INACCESSIBLE'],
    );
    assert.deepEqual(first.get('v-ok'), []);
    now += 5_000;
    await health.issuesOfAll(['v-frozen', 'v-ok']);
    assert.deepEqual(await health.issuesOf('v-frozen').then((i) => i.map((x) => x.status)), ['INACCESSIBLE']);
    assert.deepEqual(store.looks, ['v-frozen', 'v-ok', 'v-ok'], 'the frozen volume was looked at once, the healthy one every time');
    frozen.clear();
    now += 5_000;
    assert.deepEqual(await health.issuesOf('v-frozen'), [], 'after the hold time it is looked at again and found healthy');
    assert.equal(store.looks.filter((x) => x === 'v-frozen').length, 2);
  });
});
