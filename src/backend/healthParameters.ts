import { parseDuration } from '../duration';
import { InvalidParameterError } from './backendErrors';

/** Bounds of the per-volume health durations (ms). */
export const healthIntervalBounds = { min: 5_000, max: 24 * 3_600_000 };
export const healthTimeoutBounds = { min: 1_000, max: 5 * 60_000 };

function durationParam(key: string, value: string, bounds: { min: number; max: number }): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    throw new InvalidParameterError(`parameter ${key}: ${(err as Error).message}`);
  }
  if (ms < bounds.min || ms > bounds.max)
    throw new InvalidParameterError(`parameter ${key} "${value}": between ${bounds.min}ms and ${bounds.max}ms`);
  return ms;
}

/** The per-volume health durations a parameter map sets, in ms; undefined where it sets none. */
export function healthDurations(params: Record<string, string>): { intervalMs?: number; timeoutMs?: number } {
  const out: { intervalMs?: number; timeoutMs?: number } = {};
  if (params.healthCheckInterval !== undefined)
    out.intervalMs = durationParam('healthCheckInterval', params.healthCheckInterval, healthIntervalBounds);
  if (params.healthCheckTimeout !== undefined)
    out.timeoutMs = durationParam('healthCheckTimeout', params.healthCheckTimeout, healthTimeoutBounds);
  return out;
}
