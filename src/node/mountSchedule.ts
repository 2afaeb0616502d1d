import type { MountRegistration } from '../health/mountRegistration';

/** A volume's own health check interval and timeout (ms). */
export type MountSchedule = Pick<MountRegistration, 'intervalMs' | 'timeoutMs'>;

/** The schedule a publish inherits from its staging mount. */
export function scheduleOf(staged: MountRegistration | undefined): MountSchedule {
  const out: MountSchedule = {};
  if (staged?.intervalMs !== undefined) out.intervalMs = staged.intervalMs;
  if (staged?.timeoutMs !== undefined) out.timeoutMs = staged.timeoutMs;
  return out;
}
