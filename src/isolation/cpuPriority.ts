import * as os from 'node:os';

/**
 * Sets the nice value of the calling thread (Linux keeps one per thread; threads started later
 * by this one inherit it, and so do processes it forks). False when not permitted.
 */
export function setThreadNice(nice: number): boolean {
  try {
    os.setPriority(nice);
    return true;
  } catch {
    return false;
  }
}

/** How many nice steps the driver's event loop runs above its helpers and the commands they run. */
export const driverPriorityBoost = 10;

/**
 * Puts the driver's main thread (gRPC, `/healthz/live`, the monitor's timers) `boost` steps
 * above everything it starts, so that a burst of unmounts in helpers during an outage does not
 * keep it waiting for a core. Call it before any thread is started; the pool thread sets itself
 * back to 0, so helpers and commands run at the ordinary priority. Only the thread: raising the
 * whole session's autogroup as well (where the kernel groups tasks by session) raised whatever
 * else shares the session, and starved the helpers, which lead sessions of their own.
 */
export function boostDriverPriority(boost = driverPriorityBoost): { thread: boolean } {
  return { thread: setThreadNice(-boost) };
}
