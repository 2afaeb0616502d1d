import { judgeFlat, median, slice, type FlatVerdict, type Point } from './flatness';
import { topGrowth, type LiveHeap } from './heapSnapshot';
import type { ResourceSeries } from './resourceSampler';

const mb = 1024;

/*
 * Bounds of "flat". Bounded runs on this 2-core machine (shared with other test runs) did 58 to
 * 126 operations per second, 15 to 33 of them mount operations (stage, publish, unpublish,
 * unstage).
 * - Live heap, the leak verdict for everything JavaScript holds: a heap snapshot (taken after a
 *   full collection) at the end of warm-up and another after recovery may differ by at most
 *   6 MB. Measured without a leak: +0.3 to +1.0 MB, alone and with two soaks at once alike, since
 *   nothing uncollected is counted. A leak of 20 KB per operation crosses it
 *   after 308 operations; the run checks it did that many (sensitivityProblems). Two soaks at
 *   once on this machine did 800 to 1,200 operations between the snapshots.
 * - RSS outside the main JavaScript heap (RSS less the heap V8 has committed), a coarse net for
 *   what a snapshot does not show (native buffers, handles, the pool thread): 48 MB over the
 *   floors of the second and last quarters (judgeFlat), counted only when the floor also climbs
 *   window after window (isClimbing). RSS cannot be the fine verdict: under load V8 grows its
 *   young generation (to 32 MB) and keeps what it grew, collections are put off, and writing a
 *   heap snapshot leaves about 75 MB of malloc'd memory resident. A leak-free 180 s run's RSS
 *   floor rose 43 MB from the second quarter to the last while the live heap grew 0.3 MB.
 * - descriptors: 8. One IPC descriptor per helper and three pipes per running mount, umount or
 *   tar come and go, which moves peaks, not floors. A leak of one descriptor per mount
 *   operation adds hundreds; one per 25 mount operations still adds about 20.
 * - file helpers: 4. The pool keeps up to 6 idle; more staying would be helpers never reaped.
 * - largest helper RSS: 10 MB. Pooled helpers serve many requests; one that kept something per
 *   request would grow.
 */
export const heapBoundBytes = 6 * 1024 * 1024;
export const rssBoundKb = 48 * mb;
export const fdBound = 8;
const helperBound = 4;
const helperRssBoundKb = 10 * mb;
/** The per-operation leak of live heap the run must be able to see, in bytes. */
export const detectableLeakBytes = 20 * 1024;

/** The live heap at the end of warm-up and after recovery, and the operations done between them. */
export interface HeapPair {
  before: LiveHeap;
  after: LiveHeap;
  opsBetween: number;
}

export interface HeapVerdict {
  growth: number;
  opsBetween: number;
  problems: string[];
}

const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);

/** Whether the live heap grew past its bound; the message names what grew most, to start the hunt. */
export function judgeHeap(p: HeapPair): HeapVerdict {
  const growth = p.after.bytes - p.before.bytes;
  const problems: string[] = [];
  if (growth > heapBoundBytes) {
    const top = topGrowth(p.before, p.after)
      .map((g) => `${g.name} +${(g.bytes / 1024).toFixed(0)} KB`)
      .join(', ');
    problems.push(
      `driver live heap: ${mib(p.before.bytes)} MB after warm-up, ${mib(p.after.bytes)} MB after recovery, +${mib(growth)} MB over ${p.opsBetween} operations (bound ${mib(heapBoundBytes)} MB); grew most: ${top}`,
    );
  }
  return { growth, opsBetween: p.opsBetween, problems };
}

export interface LeakVerdicts {
  heap: HeapVerdict;
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
export function judgeLeaks(s: ResourceSeries, heapPair: HeapPair): LeakVerdicts {
  const heap = judgeHeap(heapPair);
  const rss = judgeFlat('driver RSS outside the JavaScript heap (kB)', s.outsideHeapKb, {
    maxFloorGrowth: rssBoundKb,
    maxTrendGrowth: rssBoundKb,
  });
  const fds = judgeFlat('driver open descriptors', s.fds, { maxFloorGrowth: fdBound, maxTrendGrowth: fdBound });
  const helpers = judgeFlat('file helpers', s.helpers, { maxFloorGrowth: helperBound, maxTrendGrowth: helperBound });
  const helperRss = judgeFlat('largest file helper RSS (kB)', s.helperMaxRssKb, {
    maxFloorGrowth: helperRssBoundKb,
    maxTrendGrowth: helperRssBoundKb,
  });
  return {
    heap,
    rss,
    fds,
    helpers,
    helperRss,
    problems: [heap, rss, fds, helpers, helperRss].flatMap((v) => v.problems),
    opsBetween: growthBetweenQuarters(s.ops),
    mountOpsBetween: growthBetweenQuarters(s.mountOps),
  };
}

/** Why the run was too small for its bounds to catch a leak of 20 KB or one descriptor per operation; empty when it was big enough. */
export function sensitivityProblems(v: LeakVerdicts): string[] {
  const out: string[] = [];
  if (v.heap.opsBetween * detectableLeakBytes <= heapBoundBytes)
    out.push(
      `only ${v.heap.opsBetween} operations between the heap snapshots: a ${detectableLeakBytes / 1024} KB leak per operation would stay under the heap bound`,
    );
  if (v.mountOpsBetween <= fdBound)
    out.push(`only ${v.mountOpsBetween} mount operations between the quarters: a descriptor leak per mount would stay under the bound`);
  return out;
}
