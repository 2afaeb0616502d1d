import { judgeFlat, median, quantile, slice, type FlatVerdict, type Point } from './flatness';
import type { ResourceSeries } from './resourceSampler';

const mb = 1024;

/*
 * Bounds of "flat" (see judgeFlat: floors of the second and last quarters, and the trend of the
 * floor after warm-up). Bounded runs on this 2-core machine (shared with other test runs) did
 * 58 to 126 operations per second, 15 to 33 of them mount operations (stage, publish, unpublish,
 * unstage); between the midpoints of the second and last quarters (30 s of a 60 s run) that is
 * 1,750 to 2,800 operations and 440 to 760 mount operations. Measured noise without a leak: RSS
 * floor -8 to +3 MB and a trend of at most +6 MB; descriptors and helpers within ±2.
 * - RSS: 16 MB, and at most 25% of the second quarter's floor. A leak of 50 KB per operation
 *   adds 85 MB or more there; one of 50 KB per mount operation only adds 22 MB or more.
 * - descriptors: 8. One IPC descriptor per helper and three pipes per running mount, umount or
 *   tar come and go, which moves peaks, not floors. A leak of one descriptor per mount
 *   operation adds hundreds; one per 25 mount operations still adds about 20.
 * - file helpers: 4. The pool keeps up to 6 idle; more staying would be helpers never reaped.
 * - largest helper RSS: 10 MB. Pooled helpers serve many requests; one that kept something per
 *   request would grow.
 * At run time the soak also checks that it did enough operations for a 50 KB-per-operation leak
 * to cross the RSS bound (assertSensitive), so a stalled run cannot pass for a flat one.
 * Growth past these bounds is a leak only when the floors also climb window after window
 * (flatness.ts, isClimbing): under a load average of 10 on 2 cores a leak-free run's RSS floor
 * rose 19 MB as collections were put off; a busy machine lifts the floor in a jump or a swell,
 * a leak climbs in every window.
 */
export const rssBoundKb = 16 * mb;
const rssBoundRatio = 0.25;
export const fdBound = 8;
const helperBound = 4;
const helperRssBoundKb = 10 * mb;
/** The per-operation leak the run must be able to see, in kB. */
export const detectableLeakKb = 50;

export interface LeakVerdicts {
  rss: FlatVerdict;
  fds: FlatVerdict;
  helpers: FlatVerdict;
  helperRss: FlatVerdict;
  problems: string[];
  /** Operations and mount operations between the middles of the second and last quarters. */
  opsBetween: number;
  mountOpsBetween: number;
}

/** Growth of a counter from the middle of the second quarter to the middle of the last. */
function growthBetweenQuarters(series: Point[]): number {
  return median(slice(series, 0.75, 1).map((p) => p.v)) - median(slice(series, 0.25, 0.5).map((p) => p.v));
}

/** Judges every sampled series of a soak run. */
export function judgeLeaks(s: ResourceSeries): LeakVerdicts {
  const rssFloor = quantile(
    slice(s.rssKb, 0.25, 0.5).map((p) => p.v),
    0.25,
  );
  const rssBound = Math.min(rssBoundKb, rssFloor * rssBoundRatio);
  const rss = judgeFlat('driver RSS (kB)', s.rssKb, { maxFloorGrowth: rssBound, maxTrendGrowth: rssBound });
  const fds = judgeFlat('driver open descriptors', s.fds, { maxFloorGrowth: fdBound, maxTrendGrowth: fdBound });
  const helpers = judgeFlat('file helpers', s.helpers, { maxFloorGrowth: helperBound, maxTrendGrowth: helperBound });
  const helperRss = judgeFlat('largest file helper RSS (kB)', s.helperMaxRssKb, {
    maxFloorGrowth: helperRssBoundKb,
    maxTrendGrowth: helperRssBoundKb,
  });
  return {
    rss,
    fds,
    helpers,
    helperRss,
    problems: [rss, fds, helpers, helperRss].flatMap((v) => v.problems),
    opsBetween: growthBetweenQuarters(s.ops),
    mountOpsBetween: growthBetweenQuarters(s.mountOps),
  };
}

/** Why the run was too small for its bounds to catch a leak of 50 KB or one descriptor per operation; empty when it was big enough. */
export function sensitivityProblems(v: LeakVerdicts): string[] {
  const out: string[] = [];
  if (v.opsBetween * detectableLeakKb <= rssBoundKb)
    out.push(
      `only ${v.opsBetween} operations between the quarters: a ${detectableLeakKb} KB leak per operation would stay under the RSS bound`,
    );
  if (v.mountOpsBetween <= fdBound)
    out.push(`only ${v.mountOpsBetween} mount operations between the quarters: a descriptor leak per mount would stay under the bound`);
  return out;
}
