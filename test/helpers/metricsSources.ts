import type { MetricsSources } from '../../src/metrics/driverMetrics';

/** What DriverMetrics reads, for a unit test: nothing mounted, a healthy driver, and whatever the test sets. */
export function metricsSources(set: Partial<MetricsSources> = {}): MetricsSources {
  return {
    mounts: () => [],
    issuesOf: () => [],
    stuckHelpers: () => 0,
    driverHealthy: () => true,
    storageReachable: () => true,
    ...set,
  };
}
