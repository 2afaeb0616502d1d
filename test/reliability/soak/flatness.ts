/** A measured value at a time (ms since the start of the run). */
export interface Point {
  t: number;
  v: number;
}

/** How much a series may grow and still count as flat. */
export interface FlatBounds {
  /** Most growth of the floor (lower quartile) from the second quarter to the last quarter. */
  maxFloorGrowth: number;
  /** Most growth over the measured span (warm-up excluded) implied by the trend of the floor. */
  maxTrendGrowth: number;
}

export interface FlatVerdict {
  ok: boolean;
  problems: string[];
  secondQuarterFloor: number;
  lastQuarterFloor: number;
  /** Slope of the fitted floor times the measured span: what the trend adds from the end of warm-up to the end. */
  trendGrowth: number;
  /** The floor (lowest sample) of each window after warm-up, in order. */
  windowFloors: number[];
  /** True when the floors climb as a leak makes them: in all steps but at most one, and no single step carrying most of the growth. */
  climbing: boolean;
}

/** Windows the span after warm-up is cut into for the climb test. */
const climbWindows = 6;
/** A climb is spread out: no one step between window floors may carry more than this share of the total rise. */
const maxStepShare = 0.6;

/** The floor of each of `n` equal windows of the points (windows without points are left out). */
export function windowFloors(points: readonly Point[], n = climbWindows): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = slice(points, i / n, (i + 1) / n).map((p) => p.v);
    if (w.length > 0) out.push(Math.min(...w));
  }
  return out;
}

/**
 * Whether window floors climb the way a leak makes them: what is leaked is never given back and
 * grows with the work, so the floor rises from window to window (all steps but at most one), a
 * little each time. A busy machine moves the floor too, but differently: a collection put off,
 * or a heap that V8 resized under load, lifts it in one jump or for a while and then it holds or
 * falls back. A step that carries most of the rise is such a jump, not a leak.
 */
export function isClimbing(floors: readonly number[]): boolean {
  if (floors.length < 3) return true;
  const steps = floors.slice(1).map((v, i) => v - (floors[i] as number));
  const rising = steps.filter((d) => d > 0).length;
  const total = (floors[floors.length - 1] as number) - (floors[0] as number);
  if (total <= 0) return false;
  return rising >= steps.length - 1 && Math.max(...steps) <= maxStepShare * total;
}

/** Samples per window of the lower envelope the trend is fitted to. */
const envelopeWindow = 4;

/** The q-quantile (0..1) by linear interpolation between the sorted values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Least-squares slope of v over t (units of v per ms); 0 for fewer than two distinct times. */
export function linearSlope(points: readonly Point[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The points whose time falls in [from, to) of the run, as fractions of its length (to = 1 includes the end). */
export function slice(points: readonly Point[], from: number, to: number): Point[] {
  if (points.length === 0) return [];
  const t0 = (points[0] as Point).t;
  const span = (points[points.length - 1] as Point).t - t0;
  return points.filter((p) => {
    const f = span === 0 ? 0 : (p.t - t0) / span;
    return f >= from && (f < to || (to >= 1 && f <= 1));
  });
}

/** The lowest point of each run of `size` consecutive samples, at the window's mean time. */
export function lowerEnvelope(points: readonly Point[], size = envelopeWindow): Point[] {
  const out: Point[] = [];
  for (let i = 0; i + size <= points.length; i += size) {
    const w = points.slice(i, i + size);
    out.push({ t: w.reduce((s, p) => s + p.t, 0) / w.length, v: Math.min(...w.map((p) => p.v)) });
  }
  return out;
}

/**
 * Judges whether a series stayed flat after its warm-up (the first quarter: heaps, pools and
 * caches fill there). What leaks is never given back, so it raises the floor of a series, while
 * garbage not yet collected and bursts of helpers only raise its peaks (a busy machine delays
 * collections, and RSS then swells by tens of MB for a minute and falls back). So both views
 * look at the floor: the lower quartile of the last quarter against that of the second, and
 * the trend of a line fitted to the lower envelope after warm-up (a steady leak shows as a
 * slope even when a quarter is noisy). Growth past a bound counts as a leak only when the floor
 * also climbs window after window (isClimbing): that is what tells a leak from a busy machine,
 * whose floor jumps once or swells and settles.
 */
export function judgeFlat(name: string, points: readonly Point[], bounds: FlatBounds): FlatVerdict {
  const second = slice(points, 0.25, 0.5).map((p) => p.v);
  const last = slice(points, 0.75, 1).map((p) => p.v);
  const measured = slice(points, 0.25, 1);
  const envelope = lowerEnvelope(measured);
  const problems: string[] = [];
  if (second.length < 2 || last.length < 2 || envelope.length < 2) problems.push(`${name}: too few samples (${points.length}) to judge`);
  const secondQuarterFloor = quantile(second, 0.25);
  const lastQuarterFloor = quantile(last, 0.25);
  const first = envelope[0];
  const end = envelope[envelope.length - 1];
  const trendGrowth = first && end ? linearSlope(envelope) * (end.t - first.t) : 0;
  const floors = windowFloors(measured);
  const climbing = isClimbing(floors);
  const shape = `window floors ${floors.join(', ')}: ${climbing ? 'climbing' : 'not climbing'}`;
  const growth = lastQuarterFloor - secondQuarterFloor;
  if (!(growth <= bounds.maxFloorGrowth) && climbing) {
    problems.push(
      `${name}: the floor of the last quarter (${lastQuarterFloor}) exceeds that of the second (${secondQuarterFloor}) by ${growth} (bound ${bounds.maxFloorGrowth}); ${shape}`,
    );
  }
  if (!(trendGrowth <= bounds.maxTrendGrowth) && climbing) {
    problems.push(
      `${name}: the trend of the floor after warm-up adds ${trendGrowth.toFixed(1)} (bound ${bounds.maxTrendGrowth}); ${shape}`,
    );
  }
  return { ok: problems.length === 0, problems, secondQuarterFloor, lastQuarterFloor, trendGrowth, windowFloors: floors, climbing };
}
