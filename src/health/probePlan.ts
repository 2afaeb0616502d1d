import type { MountHealth } from './mountHealth';

/** A mount whose last probe took this long (ms) is probed with the suspects. */
const slowProbeMs = 500;

/**
 * Mounts that answered well last time are probed apart from those that did not (or were slow,
 * or carry injected latency): a hung mount makes its round wait out the deadline and costs its
 * helper, and it should not take healthy mounts' rounds down with it.
 */
export function isSuspect(m: MountHealth, injectedDelayMs: number): boolean {
  if (injectedDelayMs > 0 || m.stuck) return true;
  if (m.lastCheckTime === 0) return false;
  return m.state !== 'healthy' || m.responseTimeMs >= slowProbeMs;
}

/** One probe round to start: mounts of one kind and one timeout, at most the round size. */
export interface PlannedRound {
  mounts: MountHealth[];
  timeoutMs: number;
  /** The earliest due time among its mounts: rounds that waited longest start first. */
  dueAt: number;
}

export interface RoundPlan {
  rounds: PlannedRound[];
  /** When the next mount not taken now is due (Infinity: none). */
  earliest: number;
}

/**
 * Picks what to probe now. Nothing starts until some mount is due; then every mount due within
 * its window goes along, so that mounts coming due one by one do not each cost a round, and a
 * whole-server outage is probed in a few rounds, not one per mount. Suspect mounts have a wider
 * window (they are already reported; a round of them usually waits out its timeout and costs
 * its helper, so fewer, larger rounds). Mounts are grouped by suspicion and timeout, and split
 * at `maxRoundSize`. Linear in the number of mounts.
 */
export function planRounds(
  mounts: Iterable<MountHealth>,
  now: number,
  windows: { healthy: number; suspect: number },
  maxRoundSize: number,
  timeoutOf: (m: MountHealth) => number,
  suspect: (m: MountHealth) => boolean,
): RoundPlan {
  const candidates: MountHealth[] = [];
  let due = false;
  let earliest = Infinity;
  for (const m of mounts) {
    if (m.inFlight || m.retiring) continue;
    if (m.nextDueAt <= now + (suspect(m) ? windows.suspect : windows.healthy)) {
      candidates.push(m);
      if (m.nextDueAt <= now) due = true;
    } else earliest = Math.min(earliest, m.nextDueAt);
  }
  if (!due) {
    for (const m of candidates) earliest = Math.min(earliest, m.nextDueAt);
    return { rounds: [], earliest };
  }
  const groups = new Map<string, MountHealth[]>();
  for (const m of candidates) {
    const key = `${suspect(m) ? 's' : 'h'}/${timeoutOf(m)}`;
    const g = groups.get(key);
    if (g) g.push(m);
    else groups.set(key, [m]);
  }
  const rounds: PlannedRound[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.nextDueAt - b.nextDueAt);
    for (let i = 0; i < g.length; i += maxRoundSize) {
      const part = g.slice(i, i + maxRoundSize);
      rounds.push({ mounts: part, timeoutMs: timeoutOf(part[0]!), dueAt: part[0]!.nextDueAt });
    }
  }
  rounds.sort((a, b) => a.dueAt - b.dueAt);
  return { rounds, earliest };
}

/**
 * The next due time of a mount being checked now. After the prompt first check each mount
 * takes a random phase of the period, so that mounts made (or found at start) together are not
 * all checked together again; later checks keep that phase, and a mount that fell behind starts
 * a fresh period. A check taken early (with a round, inside its window) moves the phase
 * earlier: two checks are never more than a period apart, so detection stays within
 * interval + timeout.
 */
export function nextDueTime(m: MountHealth, now: number, period: number, random: () => number, minDelayMs: number): number {
  if (m.lastCheckTime === 0) return now + Math.max(minDelayMs, Math.floor(random() * period));
  const next = Math.min(m.nextDueAt, now) + period;
  return next > now ? next : now + period;
}

/**
 * How far ahead of its due time a healthy mount may join a round. Each round can hold a probe
 * helper for a whole timeout, so rounds must start no more often than the lane can hold them:
 * timeout / (concurrency - 1) keeps one helper free for the next round, whatever hangs. Wider
 * is cheaper: a round costs a message each way, a helper's and its thread's wake-up and a
 * mount-table lookup however many mounts it holds, and a probe run right after others costs
 * less than one run alone, so with many mounts the window widens until a round holds about
 * `roundTarget` of them at the rate they come due, up to an eighth of the interval (checks stay
 * spread over the interval, eight rounds or more). Mounts that join a round early keep its phase
 * (nextDueTime), so after one interval each round's mounts come due together and the wider
 * window adds no checks. The lane's spacing is never wider than half the interval.
 */
export function roundWindowMs(intervalMs: number, timeoutMs: number, concurrency: number, mounts = 0, roundTarget = 0): number {
  const spread = Math.min(Math.ceil(timeoutMs / Math.max(1, concurrency - 1)), Math.floor(intervalMs / 2));
  const fill = mounts > 0 ? Math.min(Math.floor((roundTarget * intervalMs) / mounts), Math.floor(intervalMs / 8)) : 0;
  return Math.max(50, spread, fill);
}

/** The window of suspect mounts: about two rounds of them per interval. */
export function suspectWindowMs(intervalMs: number, healthyWindowMs: number): number {
  return Math.max(healthyWindowMs, Math.floor(intervalMs / 2));
}
