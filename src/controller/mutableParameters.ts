import { invalidArgument } from '../grpc/csiError';
import { validateParameters } from './parameters';
import { healthDurations } from '../backend/healthParameters';

/**
 * The volume parameters ControllerModifyVolume may change (and CreateVolume accepts in
 * mutable_parameters): the node monitor's check interval and timeout for this volume's mounts,
 * and on NFS the per-volume mount options, applied at the next stage.
 */
export const mutableKeys: readonly string[] = ['healthCheckInterval', 'healthCheckTimeout', 'mountOptions'];

/**
 * Validates mutable parameters: only the mutable keys (anything else, provisioner keys included,
 * is INVALID_ARGUMENT), each value checked, and the resulting set (merged over `current`)
 * coherent: a timeout shorter than the interval.
 * @returns the merged parameter map to record.
 */
export function validateMutableParameters(changes: Record<string, string>, current: Record<string, string> = {}): Record<string, string> {
  for (const k of Object.keys(changes)) {
    if (!mutableKeys.includes(k)) throw invalidArgument(`"${k}" is not a mutable parameter (mutable: ${mutableKeys.join(', ')})`);
  }
  if (changes.mountOptions !== undefined) validateParameters({ mountOptions: changes.mountOptions });
  const merged = { ...current, ...changes };
  const { intervalMs, timeoutMs } = healthDurations(merged);
  if (intervalMs !== undefined && timeoutMs !== undefined && timeoutMs >= intervalMs) {
    throw invalidArgument(
      `healthCheckTimeout (${merged.healthCheckTimeout}) must be shorter than healthCheckInterval (${merged.healthCheckInterval})`,
    );
  }
  return merged;
}
