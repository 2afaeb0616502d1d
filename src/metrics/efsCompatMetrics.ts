import { Counter, Gauge, type Registry } from 'prom-client';
import { isMountHealthy } from '../health/isMountHealthy';
import type { MetricsSources } from './driverMetrics';

/** Which extra metric names to export beside the driver's own. */
export type MetricsCompat = 'none' | 'efs';

/**
 * The metric names of the seed design (an EFS health-monitoring proposal), with its meanings and
 * units, for dashboards and scripts written against it. Computed at scrape time from the same
 * monitor state as the driver's own metrics. Unlike ours, they carry the mount path as a label,
 * as the seed's do: one series per mount of this node.
 */
export function registerEfsCompatMetrics(r: Registry, src: MetricsSources): void {
  const perMount = ['volume_id', 'mount_path'] as const;
  new Gauge({
    name: 'efs_mount_health_status',
    help: 'Health of each mount: 1 healthy, 0 unhealthy (seed-compatible name; see csi_driver_volume_health_state).',
    labelNames: perMount,
    registers: [r],
    collect() {
      this.reset();
      for (const m of src.mounts())
        this.set({ volume_id: m.reg.volumeId, mount_path: m.reg.path }, isMountHealthy(m, src.issuesOf(m.reg.path)) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'efs_mount_response_time_ms',
    help: 'Duration of the last health check of each mount, in milliseconds (seed-compatible name; see csi_driver_probe_duration_seconds).',
    labelNames: perMount,
    registers: [r],
    collect() {
      this.reset();
      for (const m of src.mounts())
        if (m.lastCheckTime > 0) this.set({ volume_id: m.reg.volumeId, mount_path: m.reg.path }, m.responseTimeMs);
    },
  });
  new Counter({
    name: 'efs_mount_error_total',
    help: 'Failed health checks of each mount since it was mounted (seed-compatible name; see csi_driver_probe_errors_total).',
    labelNames: perMount,
    registers: [r],
    collect() {
      // The monitor counts errors per mount; the series starts again when the mount does.
      this.reset();
      for (const m of src.mounts()) this.inc({ volume_id: m.reg.volumeId, mount_path: m.reg.path }, m.errorCount);
    },
  });
  new Gauge({
    name: 'efs_csi_driver_healthy',
    help: '1 when every mount is healthy and the share is reachable, else 0 (seed-compatible name of csi_driver_healthy).',
    registers: [r],
    collect() {
      this.set(src.driverHealthy() ? 1 : 0);
    },
  });
}
