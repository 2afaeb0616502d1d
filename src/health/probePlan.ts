import type { MountHealth } from './mountHealth';

/** The mounts to check now: single probes, and batch candidates in due order. */
export interface DuePlan {
  /** At most the number asked for, longest-waiting first. */
  single: MountHealth[];
  /** Single probes due now beyond those returned. */
  moreSingles: boolean;
  batchable: MountHealth[];
  /** When the next mount not chosen now is due (Infinity: none). */
  earliest: number;
}

/** A mount whose last probe took this long (ms) is probed on its own. */
const slowProbeMs = 50;

/**
 * Whether a mount may go in a batch: healthy and fast, or never checked yet (so that the first
 * round after a start with many mounts goes in batches too; a hung one makes its batch overstay,
 * and then each is probed on its own), and no injected latency (which must act on a single
 * probe's deadline).
 */
export function canBatch(m: MountHealth, injectedDelayMs: number): boolean {
  const known = m.state === 'healthy' || (m.state === 'unknown' && m.lastCheckTime === 0);
  return known && m.responseTimeMs < slowProbeMs && injectedDelayMs <= 0;
}

/** The `k` mounts due earliest, in due order, without sorting them all (k is small, the list may not be). */
function earliestK(list: MountHealth[], k: number): MountHealth[] {
  if (list.length <= k) return list.sort((a, b) => a.nextDueAt - b.nextDueAt);
  const out: MountHealth[] = [];
  for (const m of list) {
    if (out.length === k && m.nextDueAt >= out[k - 1]!.nextDueAt) continue;
    let i = out.length;
    while (i > 0 && out[i - 1]!.nextDueAt > m.nextDueAt) i--;
    out.splice(i, 0, m);
    if (out.length > k) out.pop();
  }
  return out;
}

/**
 * Picks what is due. Single probes are the mounts due now that cannot be batched, at most
 * `maxSingles` of them. A batch starts only when one of its mounts is due, and then takes along
 * the batchable mounts due within the window, so that no tiny batches form as mounts come due
 * one by one. Both lists are longest-waiting first. Called after every finished probe, so it
 * stays linear in the number of mounts.
 */
export function selectDue(mounts: Iterable<MountHealth>, now: number, windowMs: number, canBatch: (m: MountHealth) => boolean, maxSingles = Infinity): DuePlan {
  const dueSingles: MountHealth[] = [];
  let batchable: MountHealth[] = [];
  let earliest = Infinity;
  let batchDue = false;
  for (const m of mounts) {
    if (m.inFlight) continue;
    if (canBatch(m) && m.nextDueAt <= now + windowMs) {
      batchable.push(m);
      if (m.nextDueAt <= now) batchDue = true;
    } else if (m.nextDueAt <= now) dueSingles.push(m);
    else earliest = Math.min(earliest, m.nextDueAt);
  }
  if (!batchDue) {
    for (const m of batchable) earliest = Math.min(earliest, m.nextDueAt);
    batchable = [];
  }
  const single = earliestK(dueSingles, maxSingles);
  batchable.sort((a, b) => a.nextDueAt - b.nextDueAt);
  return { single, moreSingles: dueSingles.length > single.length, batchable, earliest };
}

/**
 * The next due time of a mount being checked now. After the prompt first check each mount
 * takes a random phase of the period, so that mounts made (or found at start) together are not
 * all checked together again; later checks keep that phase, and a mount that fell behind starts
 * a fresh period.
 */
export function nextDueTime(m: MountHealth, now: number, period: number, random: () => number, minDelayMs: number): number {
  if (m.lastCheckTime === 0) return now + Math.max(minDelayMs, Math.floor(random() * period));
  const next = m.nextDueAt + period;
  return next > now ? next : now + period;
}
