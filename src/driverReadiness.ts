import type { HealthMonitor } from './health/healthMonitor';

/** What /healthz/ready and the driver's health metric say: every mount and the storage without issues. */
export function driverReadiness(monitor: HealthMonitor): () => { ok: boolean; problems: string[] } {
  return () => {
    const problems: string[] = [];
    for (const m of monitor.all()) {
      const issues = monitor.issuesOf(m.reg.path);
      if (issues.length > 0) problems.push(`${m.reg.path}: ${issues.map((i) => i.reason).join(', ')}`);
    }
    for (const s of monitor.storageIssues()) problems.push(`storage: ${s.reason}: ${s.message}`);
    return { ok: problems.length === 0, problems };
  };
}
