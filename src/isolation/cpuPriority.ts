import * as fs from 'node:fs';
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

/**
 * Sets the nice value of this process's autogroup. A kernel with `sched_autogroup_enabled`
 * shares the CPU between sessions first (for tasks in the root CPU cgroup), so a thread's nice
 * value only orders it within its own session. False where there is no autogroup or it is not
 * permitted (a negative value needs CAP_SYS_NICE).
 */
export function setAutogroupNice(nice: number, file = '/proc/self/autogroup'): boolean {
  try {
    fs.writeFileSync(file, String(nice));
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
 * back to 0, so helpers and commands run at the ordinary priority.
 */
export function boostDriverPriority(boost = driverPriorityBoost): { thread: boolean; autogroup: boolean } {
  return { thread: setThreadNice(-boost), autogroup: setAutogroupNice(-boost) };
}
