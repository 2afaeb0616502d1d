import type { LeakVerdicts } from './leakVerdicts';
import { isFileHelper } from './processSampler';
import type { ResourceSeries } from './resourceSampler';

export interface SoakFigures {
  seconds: number;
  seed: number;
  perRpc: Record<string, number>;
  perCode: Record<string, number>;
  faults: Record<string, number>;
  probeTimeouts: number;
  helpersAtEnd: number;
  series: ResourceSeries;
  verdicts: LeakVerdicts;
  /** Live heap in kB after warm-up and after recovery. */
  heapKb: { before: number; after: number };
}

const mbOf = (kb: number | undefined): string => (kb === undefined ? '?' : (kb / 1024).toFixed(1));
const list = (r: Record<string, number>): string =>
  Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/** The one line a report quotes: duration, calls per RPC and code, faults, RSS, descriptors, helpers. */
export function formatSummary(f: SoakFigures): string {
  const ops = Object.values(f.perRpc).reduce((a, b) => a + b, 0);
  const s = f.series;
  const v = f.verdicts;
  const stuckMax = Math.max(0, ...s.stuck.map((p) => p.v));
  return [
    `soak ${f.seconds}s seed ${f.seed}: ${ops} calls (${Math.round(ops / f.seconds)}/s): ${list(f.perRpc)}`,
    `codes: ${list(f.perCode)}`,
    `faults: ${list(f.faults)}; probes killed ${f.probeTimeouts}`,
    `live heap MB (after a full collection): after warm-up ${mbOf(f.heapKb.before)}, after recovery ${mbOf(f.heapKb.after)}, ${v.heap.opsBetween} calls between`,
    `RSS MB: start ${mbOf(s.first?.rssKb)}, end ${mbOf(s.last?.rssKb)}, peak ${mbOf(Math.max(...s.rssKb.map((p) => p.v)))}; outside the JS heap: floor Q2 ${mbOf(v.rss.secondQuarterFloor)}, floor Q4 ${mbOf(v.rss.lastQuarterFloor)}, trend ${(v.rss.trendGrowth / 1024).toFixed(1)} (${v.rss.climbing ? 'climbing' : 'not climbing'})`,
    `fds: start ${s.first?.fds}, floor Q2 ${v.fds.secondQuarterFloor}, floor Q4 ${v.fds.lastQuarterFloor}, end ${s.last?.fds}, peak ${Math.max(...s.fds.map((p) => p.v))}`,
    `helpers: start ${s.first?.children.filter(isFileHelper).length ?? '?'}, peak ${s.peakHelpers}, after recovery ${f.helpersAtEnd}, stuck at most ${stuckMax} (sampled); largest helper RSS floor Q2 ${mbOf(v.helperRss.secondQuarterFloor)} MB, Q4 ${mbOf(v.helperRss.lastQuarterFloor)} MB`,
    `between quarters: ${v.opsBetween} calls, ${v.mountOpsBetween} mount calls; ${s.rssKb.length} samples`,
  ].join('\n        ');
}
