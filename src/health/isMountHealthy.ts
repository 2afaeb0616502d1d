import type { HealthIssue } from './healthIssue';
import type { MountHealth } from './mountHealth';

/**
 * The one yes/no verdict on a mount, for surfaces that want a boolean (the seed's `isHealthy`
 * and `efs_mount_health_status`): healthy when no issue stands against it, injected or seen, and
 * it is not degraded or unhealthy. A mount not checked yet has nothing against it and counts as healthy.
 */
export function isMountHealthy(m: Pick<MountHealth, 'state'>, issues: readonly HealthIssue[]): boolean {
  return issues.length === 0 && (m.state === 'healthy' || m.state === 'unknown');
}
