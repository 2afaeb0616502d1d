import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Puts this helper process behind the driver for CPU, `nice` steps lower. Two knobs, since the
 * kernel honours one or the other: the process's own nice value orders it against the driver's
 * threads in the same CPU cgroup (a pod), and the nice value of its autogroup does so when the
 * kernel groups tasks by session (autogroup, used when the task sits in the root CPU cgroup),
 * where a helper leads a session of its own and a plain nice value is not compared across
 * sessions. Raising a nice value needs no privilege; a failure leaves the helper as it was.
 */
export function lowerHelperPriority(nice: number, autogroupFile = '/proc/self/autogroup'): { process: boolean; autogroup: boolean } {
  let processSet = false;
  let autogroupSet = false;
  try {
    os.setPriority(nice);
    processSet = true;
  } catch {
    // Not permitted or not supported: the helper keeps the driver's priority.
  }
  try {
    fs.writeFileSync(autogroupFile, String(nice));
    autogroupSet = true;
  } catch {
    // No autogroup support (or not enabled): nothing to do.
  }
  return { process: processSet, autogroup: autogroupSet };
}

/** The environment variable that carries a helper's nice steps from the pool to the helper. */
export const helperNiceEnv = 'CSI_DRIVER_HELPER_NICE';

/** Applies the nice steps the pool asked for (none when unset or not a number from 1 to 19). */
export function lowerHelperPriorityFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  const nice = Number(env[helperNiceEnv]);
  if (Number.isInteger(nice) && nice >= 1 && nice <= 19) lowerHelperPriority(nice);
}
