/**
 * The helper side of a probe round. Calm mounts are probed one after another with synchronous
 * calls on a thread of their own (calmProbes.ts); the others (failing, stuck or delayed last
 * time) at once on the helper's thread pool, which is sized for a whole round, so a hung mount
 * holds one thread and nobody else's answer. Each result is sent the moment it is known, and the
 * pool kills the helper at the round's deadline to free the threads that never came back.
 * The probe itself is probeItem.ts.
 */
import type { ProbeItem, TimedProbeResult } from './fsOps';
import { probeItem } from './probeItem';
import { asyncProbeFs } from './probeFs';
import { CalmProber } from './calmProbes';
import { freshMountIds } from './mountIdLookup';

/** Answered well last time and not slowed on purpose: worth the cheap, one-at-a-time probe. */
const isCalm = (item: ProbeItem): boolean => !item.sweep && !(item.delayMs && item.delayMs > 0);

const calm = new CalmProber();

/**
 * Probes every item and hands each result over as soon as it is known. With `stallMs`, calm
 * items go to the one-at-a-time thread first, and whatever it has not started when it stalls
 * that long is probed on the thread pool; without it, every item goes to the thread pool.
 */
export async function runProbeRound(
  items: ProbeItem[],
  send: (index: number, result: TimedProbeResult) => void,
  stallMs?: number,
): Promise<void> {
  const mountIds = freshMountIds();
  const onPool = async (index: number): Promise<void> => {
    const t0 = process.hrtime.bigint();
    const r = await probeItem(items[index]!, mountIds, asyncProbeFs);
    send(index, { ...r, elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6 });
  };
  const calmIndexes = stallMs !== undefined && calm.canTakeRound() ? items.flatMap((item, i) => (isCalm(item) ? [i] : [])) : [];
  const chosen = new Set(calmIndexes);
  const running = items.flatMap((_, i) => (chosen.has(i) ? [] : [onPool(i)]));
  if (calmIndexes.length > 0) {
    const run = calm.run(
      calmIndexes.map((i) => items[i]!),
      stallMs!,
      (position, r) => send(calmIndexes[position]!, r),
    );
    for (const position of await run.handedBack) running.push(onPool(calmIndexes[position]!));
    // A thread that broke after the rest was handed back gives back what it had started.
    running.push(run.finished.then(async (lost) => void (await Promise.all(lost.map((position) => onPool(calmIndexes[position]!))))));
  }
  await Promise.all(running);
  // This helper came through a round alive: worth a thread for the calm mounts of the next ones.
  calm.prepare();
}
