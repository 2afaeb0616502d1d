import { strict as assert } from 'node:assert';
import { nextDueTime, planRounds, roundWindowMs } from '../../../src/health/probePlan';
import { newMountHealth, type MountHealth } from '../../../src/health/mountHealth';

const mount = (name: string, nextDueAt: number, extra: Partial<MountHealth> = {}): MountHealth => ({
  ...newMountHealth({ volumeId: name, path: `/${name}`, kind: 'publish', readOnly: false, expectedSource: '' }, 0, nextDueAt),
  ...extra,
});
const names = (ms: MountHealth[]): string[] => ms.map((m) => m.reg.volumeId);
const timeoutOf = (m: MountHealth): number => m.reg.timeoutMs ?? 1000;
const suspect = (m: MountHealth): boolean => m.state === 'unhealthy';

describe('planRounds', () => {
  it('starts nothing until a mount is due, then takes along every mount due within the window', () => {
    const notYet = planRounds([mount('x', 150), mount('y', 180)], 100, { healthy: 100, suspect: 100 }, 64, timeoutOf, suspect);
    assert.deepEqual(notYet.rounds, []);
    assert.equal(notYet.earliest, 150);
    const due = planRounds([mount('y', 180), mount('x', 90), mount('z', 400)], 100, { healthy: 100, suspect: 100 }, 64, timeoutOf, suspect);
    assert.deepEqual(
      due.rounds.map((r) => names(r.mounts)),
      [['x', 'y']],
    );
    assert.equal(due.earliest, 400);
  });

  it('groups by suspicion and timeout, splits at the round size, and puts the longest-waiting round first', () => {
    const mounts = [
      mount('h1', 50),
      mount('h2', 60),
      mount('h3', 70),
      mount('s1', 10, { state: 'unhealthy' }),
      mount('t1', 80, { reg: { volumeId: 't1', path: '/t1', kind: 'publish', readOnly: false, expectedSource: '', timeoutMs: 300 } }),
      mount('busy', 0, { inFlight: true }),
      mount('leaving', 0, { retiring: true }),
    ];
    const plan = planRounds(mounts, 100, { healthy: 0, suspect: 0 }, 2, timeoutOf, suspect);
    assert.deepEqual(
      plan.rounds.map((r) => [names(r.mounts), r.timeoutMs]),
      [
        [['s1'], 1000],
        [['h1', 'h2'], 1000],
        [['h3'], 1000],
        [['t1'], 300],
      ],
    );
  });

  it('takes suspect mounts along from a wider window than healthy ones', () => {
    const plan = planRounds(
      [mount('h', 100), mount('h-later', 500), mount('s-later', 500, { state: 'unhealthy' })],
      100,
      { healthy: 100, suspect: 1000 },
      64,
      timeoutOf,
      suspect,
    );
    assert.deepEqual(
      plan.rounds.map((r) => names(r.mounts)),
      [['h'], ['s-later']],
    );
    assert.equal(plan.earliest, 500);
  });
});

describe('roundWindowMs', () => {
  it('spaces rounds so that the lane keeps a helper free while rounds wait out their timeout', () => {
    assert.equal(roundWindowMs(5000, 2000, 4), 667);
    assert.equal(roundWindowMs(30_000, 5000, 4), 1667);
    // Never more than half the interval, whatever the concurrency.
    assert.equal(roundWindowMs(5000, 4000, 1), 2500);
  });

  it('widens with many mounts until a round holds about the target, within those bounds', () => {
    // 1,000 mounts checked every 30 s come due 33 a second: 96 of them in 2.88 s.
    assert.equal(roundWindowMs(30_000, 5000, 4, 1000, 96), 2880);
    // A few mounts: at most an eighth of the interval, so that checks stay spread over it.
    assert.equal(roundWindowMs(30_000, 5000, 4, 10, 96), 3750);
    assert.equal(roundWindowMs(5000, 4000, 1, 10, 96), 2500, 'the lane spacing may still be wider');
    // So many that the target fills sooner: never narrower than the lane needs.
    assert.equal(roundWindowMs(30_000, 5000, 4, 100_000, 96), 1667);
    assert.equal(roundWindowMs(30_000, 5000, 4, 0, 96), 1667);
  });
});

describe('nextDueTime', () => {
  const checked = (nextDueAt: number): MountHealth => mount('m', nextDueAt, { lastCheckTime: 1 });
  it('keeps the phase of a mount checked on time or late, and moves it earlier when checked early', () => {
    assert.equal(
      nextDueTime(checked(1000), 1000, 5000, () => 0, 50),
      6000,
    );
    assert.equal(
      nextDueTime(checked(1000), 1300, 5000, () => 0, 50),
      6000,
      'late: the phase stays',
    );
    assert.equal(
      nextDueTime(checked(1000), 400, 5000, () => 0, 50),
      5400,
      'early: never more than a period to the next check',
    );
    assert.equal(
      nextDueTime(checked(1000), 9000, 5000, () => 0, 50),
      14000,
      'a whole period behind: a fresh period',
    );
  });
});
