import { strict as assert } from 'node:assert';
import { selectDue } from '../../../src/health/probePlan';
import type { MountHealth } from '../../../src/health/mountHealth';

const mount = (name: string, nextDueAt: number, batchable = false): MountHealth =>
  ({ reg: { volumeId: name, path: `/${name}`, kind: 'publish', readOnly: false, expectedSource: '' }, nextDueAt, inFlight: false, batchable }) as unknown as MountHealth;
const canBatch = (m: MountHealth): boolean => (m as unknown as { batchable: boolean }).batchable;

describe('selectDue', () => {
  it('returns at most the asked number of single probes, longest-waiting first, and says when more are due', () => {
    const mounts = [mount('a', 50), mount('b', 10), mount('c', 90), mount('d', 30), mount('e', 20), mount('later', 2000)];
    const plan = selectDue(mounts, 100, 0, canBatch, 3);
    assert.deepEqual(plan.single.map((m) => m.reg.volumeId), ['b', 'e', 'd']);
    assert.equal(plan.moreSingles, true);
    assert.equal(plan.earliest, 2000);
    const all = selectDue(mounts, 100, 0, canBatch);
    assert.deepEqual(all.single.map((m) => m.reg.volumeId), ['b', 'e', 'd', 'a', 'c']);
    assert.equal(all.moreSingles, false);
  });

  it('starts a batch only when one of its mounts is due, taking along those due within the window', () => {
    const notYet = selectDue([mount('x', 150, true), mount('y', 180, true)], 100, 100, canBatch);
    assert.deepEqual(notYet.batchable, []);
    assert.equal(notYet.earliest, 150);
    const due = selectDue([mount('y', 180, true), mount('x', 90, true), mount('z', 400, true)], 100, 100, canBatch);
    assert.deepEqual(due.batchable.map((m) => m.reg.volumeId), ['x', 'y']);
    assert.equal(due.earliest, 400);
  });
});
