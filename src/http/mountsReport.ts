import type { HealthIssue } from '../health/healthIssue';
import { isMountHealthy } from '../health/isMountHealthy';
import { toReport, type MountHealth, type MountHealthReport } from '../health/mountHealth';

/** One mount in /healthz/mounts: our report, plus the seed design's `mountPath` and `isHealthy`. */
export type MountsReportEntry = MountHealthReport & { mountPath: string; isHealthy: boolean };

/**
 * The body of /healthz/mounts: keyed by mount path, as the seed design's JSON is, each entry
 * carrying every field of ours and the seed's `mountPath` and `isHealthy` (so that scripts
 * written against either read it).
 */
export function mountsReport(mounts: readonly MountHealth[], issuesOf: (path: string) => HealthIssue[]): Record<string, MountsReportEntry> {
  const out: Record<string, MountsReportEntry> = {};
  for (const m of mounts) {
    const issues = issuesOf(m.reg.path);
    out[m.reg.path] = { mountPath: m.reg.path, isHealthy: isMountHealthy(m, issues), ...toReport(m, issues) };
  }
  return out;
}
