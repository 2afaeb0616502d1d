import type { MountHealth } from './mountHealth';
import type { StorageIssue } from './nodeHealthView';

/**
 * The share's problems as the node sees them: what the storage check found, and, unless the
 * share is already unreachable, a degraded status when some of the node's mounts are unhealthy.
 */
export function nodeStorageIssues(checked: readonly StorageIssue[], mounts: Iterable<MountHealth>, mountCount: number): StorageIssue[] {
  const out = [...checked];
  let sick = 0;
  for (const m of mounts) if (m.state === 'unhealthy') sick++;
  if (sick > 0 && !out.some((s) => s.status === 'STORAGE_UNREACHABLE')) {
    out.push({
      status: 'STORAGE_DEGRADED',
      reason: 'MountsUnhealthy',
      message: `${sick} of ${mountCount} mounts on this node are unhealthy`,
    });
  }
  return out;
}
