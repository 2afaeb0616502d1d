import type { HealthMonitor } from './health/healthMonitor';
import type { Readiness } from './http/healthHttpServer';

/** What /healthz/ready and the driver's health metric say: every mount and the storage without issues. */
export function driverReadiness(monitor: Pick<HealthMonitor, 'all' | 'issuesOf' | 'storageIssues'>): () => Readiness {
  return () => {
    const problems: string[] = [];
    for (const m of monitor.all()) {
      const issues = monitor.issuesOf(m.reg.path);
      if (issues.length > 0) problems.push(`${m.reg.path}: ${issues.map((i) => i.reason).join(', ')}`);
    }
    const storage = monitor.storageIssues();
    for (const s of storage) problems.push(`storage: ${s.reason}: ${s.message}`);
    return { ok: problems.length === 0, problems, storage };
  };
}
