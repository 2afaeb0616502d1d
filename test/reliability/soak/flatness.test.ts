import { strict as assert } from 'node:assert';
import { isClimbing, judgeFlat, linearSlope, lowerEnvelope, median, quantile, windowFloors, type Point } from './flatness';
import { SeededRandom } from './seededRandom';

/**
 * The soak's leak verdict on synthetic series shaped like a bounded run (60 s, a sample every
 * 2 s, 60 operations per second of which 15 mount or unmount: less than the soak measures): it must let
 * warm-up, GC noise and a transient swell pass, and catch the leaks the soak promises to catch.
 */
describe('soak flatness verdict', () => {
  const rssBound = { maxFloorGrowth: 16 * 1024, maxTrendGrowth: 16 * 1024 };
  const fdBound = { maxFloorGrowth: 8, maxTrendGrowth: 8 };
  const opsPerSecond = 60;
  const mountOpsPerSecond = 15;

  /** 31 samples over 60 s; `value(t, ops, r)` gives the sample at t ms after `ops` operations. */
  function series(value: (t: number, ops: number, r: SeededRandom) => number, seed = 1): Point[] {
    const r = new SeededRandom(seed);
    return Array.from({ length: 31 }, (_, i) => {
      const t = i * 2000;
      return { t, v: Math.round(value(t, (t / 1000) * opsPerSecond, r)) };
    });
  }

  /** 120 MB after a warm-up from 80 MB over the first 10 s, with a GC sawtooth of up to 8 MB. */
  const healthyRss = (t: number, _ops: number, r: SeededRandom): number =>
    80 * 1024 + Math.min(1, t / 10_000) * 40 * 1024 + r.next() * 8 * 1024;

  it('passes a series that rises during warm-up and then only breathes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const v = judgeFlat('rss', series(healthyRss, seed), rssBound);
      assert.deepEqual(v.problems, [], `seed ${seed}`);
    }
  });

  it('passes a swell of 45 MB over half of the last quarter that falls back (delayed collections)', () => {
    const swell = series((t, ops, r) => healthyRss(t, ops, r) + (t >= 46_000 && t < 54_000 ? 45 * 1024 : 0));
    assert.deepEqual(judgeFlat('rss', swell, rssBound).problems, []);
  });

  it('passes a floor that a busy machine lifts once by 20 MB (a heap V8 resized under load) and that then holds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const step = series((t, ops, r) => healthyRss(t, ops, r) + (t >= 36_000 ? 20 * 1024 : 0), seed);
      const v = judgeFlat('rss', step, rssBound);
      assert.ok(v.lastQuarterFloor - v.secondQuarterFloor > rssBound.maxFloorGrowth, `seed ${seed}: the step is past the bound`);
      assert.deepEqual(v.problems, [], `seed ${seed}`);
    }
  });

  it('passes a floor lifted by 25 MB for the busy last third of the run (collections put off), which the old bounds alone failed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const busy = series((t, ops, r) => healthyRss(t, ops, r) + (t >= 40_000 ? 25 * 1024 * (0.8 + 0.2 * r.next()) : 0), seed);
      const v = judgeFlat('rss', busy, rssBound);
      assert.ok(v.lastQuarterFloor - v.secondQuarterFloor > rssBound.maxFloorGrowth, `seed ${seed}: past the bound`);
      assert.deepEqual(v.problems, [], `seed ${seed}`);
    }
  });

  it('fails leaks for every seed, naming the climbing window floors', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const perOp = judgeFlat(
        'rss',
        series((t, ops, r) => healthyRss(t, ops, r) + ops * 50, seed),
        rssBound,
      );
      assert.equal(perOp.ok, false, `seed ${seed}`);
      assert.match(perOp.problems.join('\n'), /window floors .*: climbing/);
      const perMountOp = judgeFlat(
        'rss',
        series((t, ops, r) => healthyRss(t, ops, r) + (t / 1000) * mountOpsPerSecond * 50, seed),
        rssBound,
      );
      assert.equal(perMountOp.ok, false, `seed ${seed}: ${JSON.stringify(perMountOp)}`);
    }
  });

  it('tells a climb from a jump', () => {
    assert.equal(isClimbing([100, 110, 121, 130, 142, 150]), true);
    assert.equal(isClimbing([100, 110, 108, 130, 142, 150]), true, 'one step may stall');
    assert.equal(isClimbing([100, 101, 100, 150, 151, 150]), false, 'one jump is not a climb');
    assert.equal(isClimbing([100, 102, 101, 103, 101, 104]), false, 'noise is not a climb');
    assert.equal(isClimbing([100, 90, 80, 70]), false);
    assert.deepEqual(
      windowFloors(
        [
          { t: 0, v: 5 },
          { t: 1, v: 3 },
          { t: 2, v: 9 },
          { t: 3, v: 4 },
        ],
        2,
      ),
      [3, 4],
    );
  });

  it('fails a leak of 50 KB per operation, and of 50 KB per mount operation, at the bounded size', () => {
    const perOp = judgeFlat(
      'rss',
      series((t, ops, r) => healthyRss(t, ops, r) + ops * 50),
      rssBound,
    );
    assert.equal(perOp.ok, false);
    assert.match(perOp.problems.join('\n'), /floor of the last quarter .* exceeds/);
    assert.match(perOp.problems.join('\n'), /trend of the floor after warm-up adds/);
    const perMountOp = judgeFlat(
      'rss',
      series((t, ops, r) => healthyRss(t, ops, r) + (t / 1000) * mountOpsPerSecond * 50),
      rssBound,
    );
    assert.equal(perMountOp.ok, false, JSON.stringify(perMountOp));
  });

  it('passes descriptors that jump by a few with helper bursts, and fails one leaked descriptor per mount operation', () => {
    const burst = (r: SeededRandom): number => (r.chance(0.3) ? r.int(1, 10) : 0);
    assert.deepEqual(
      judgeFlat(
        'fds',
        series((_t, _ops, r) => 40 + burst(r)),
        fdBound,
      ).problems,
      [],
    );
    assert.equal(
      judgeFlat(
        'fds',
        series((t, _ops, r) => 40 + burst(r) + (t / 1000) * mountOpsPerSecond),
        fdBound,
      ).ok,
      false,
    );
    // Even one descriptor per 25 mount operations is caught.
    assert.equal(
      judgeFlat(
        'fds',
        series((t) => 40 + Math.floor(((t / 1000) * mountOpsPerSecond) / 25)),
        fdBound,
      ).ok,
      false,
    );
  });

  it('refuses to judge a series too short to have quarters', () => {
    const v = judgeFlat(
      'rss',
      [
        { t: 0, v: 1 },
        { t: 1000, v: 1 },
      ],
      rssBound,
    );
    assert.match(v.problems.join('\n'), /too few samples/);
  });

  it('computes quantiles, envelopes and least-squares slopes', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
    assert.deepEqual(
      lowerEnvelope(
        [
          { t: 0, v: 5 },
          { t: 2, v: 3 },
          { t: 4, v: 9 },
          { t: 6, v: 4 },
          { t: 8, v: 1 },
        ],
        2,
      ),
      [
        { t: 1, v: 3 },
        { t: 5, v: 4 },
      ],
    );
    assert.equal(
      linearSlope([
        { t: 0, v: 1 },
        { t: 10, v: 3 },
        { t: 20, v: 5 },
      ]),
      0.2,
    );
    assert.equal(linearSlope([{ t: 5, v: 1 }]), 0);
  });
});
