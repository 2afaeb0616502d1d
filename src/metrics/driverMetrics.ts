import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { eventLoopSamplingMs } from './eventLoopSampling';
import type { status } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import type { MountOperation } from '../mount/mounter';
import type { HealthIssue } from '../health/healthIssue';
import type { MountHealth, MountState } from '../health/mountHealth';
import { registerEfsCompatMetrics, type MetricsCompat } from './efsCompatMetrics';
import { registerSeriesGauge } from './seriesGauge';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  mounts: () => ReadonlyArray<Readonly<MountHealth>>;
  issuesOf: (path: string) => HealthIssue[];
  stuckHelpers: () => number;
  driverHealthy: () => boolean;
  storageReachable: () => boolean;
  /** True when the node state file was corrupt at start and the records were rebuilt from the mount table. */
  nodeStateRebuilt?: () => boolean;
  /** File helpers started and killed at their deadline, per lane, since start. */
  helperTotals?: () => Record<'csi' | 'probe', { started: number; killed: number }>;
}

/** What the gauges read before the driver's parts are there to watch: nothing mounted, nothing known. */
const nothingYet: MetricsSources = {
  mounts: () => [],
  issuesOf: () => [],
  stuckHelpers: () => 0,
  driverHealthy: () => false,
  storageReachable: () => false,
};

const stateRank: Record<MountState, number> = { unknown: 0, healthy: 1, degraded: 2, unhealthy: 3 };
const states: MountState[] = ['unknown', 'healthy', 'degraded', 'unhealthy'];

/**
 * The driver's Prometheus metrics on their own Registry (never the global one). Labels are
 * bounded: volume ids, reasons, RPC methods and codes; never pod paths.
 */
export class DriverMetrics {
  readonly registry = new Registry();
  private readonly probeDuration: Histogram<'kind' | 'result'>;
  private readonly probeErrors: Counter<'volume_id' | 'reason'>;
  private readonly probeTimeouts: Counter;
  private readonly grpcRequests: Counter<'method' | 'code'>;
  private readonly grpcDuration: Histogram<'method'>;
  private readonly mountOps: Counter<'operation' | 'result'>;
  private readonly mountDuration: Histogram<'operation'>;
  /** Reasons with a probe-error series, per volume, so that the series can go with the volume. */
  private readonly errorReasons = new Map<string, Set<string>>();

  private src: MetricsSources = nothingYet;

  /**
   * The registry and its counters exist from the start (mounts and calls are observed before the
   * monitor exists); the gauges read `src`, given here or later with watch().
   */
  constructor(src?: MetricsSources, compat: MetricsCompat = 'none') {
    if (src) this.src = src;
    const r = this.registry;
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: eventLoopSamplingMs });
    if (compat === 'efs') {
      registerEfsCompatMetrics(r, {
        mounts: () => this.src.mounts(),
        issuesOf: (p) => this.src.issuesOf(p),
        stuckHelpers: () => this.src.stuckHelpers(),
        driverHealthy: () => this.src.driverHealthy(),
        storageReachable: () => this.src.storageReachable(),
      });
    }
    const self = this;
    registerSeriesGauge(
      r,
      'csi_driver_volume_health_state',
      'Health state of the volumes mounted on this node: 1 for the current state of each volume and mount kind (the worst of its mounts), 0 otherwise.',
      function* () {
        for (const w of self.worstStates()) {
          for (const s of states) yield [{ volume_id: w.volumeId, kind: w.kind, state: s }, s === w.state ? 1 : 0];
        }
      },
    );
    registerSeriesGauge(
      r,
      'csi_driver_volume_injected_fault',
      'Faults set through the fault-injection API, by volume and reason (1 while active).',
      function* () {
        // The mounts of one volume share its faults: one series each.
        const seen = new Set<string>();
        for (const m of self.src.mounts()) {
          for (const i of self.src.issuesOf(m.reg.path)) {
            const key = `${m.reg.volumeId}\0${i.reason}`;
            if (!i.injected || seen.has(key)) continue;
            seen.add(key);
            yield [{ volume_id: m.reg.volumeId, reason: i.reason }, 1];
          }
        }
      },
    );
    new Gauge({
      name: 'csi_driver_monitored_mounts',
      help: 'Mounts registered with the health monitor.',
      registers: [r],
      collect() {
        this.set(self.src.mounts().length);
      },
    });
    new Gauge({
      name: 'csi_driver_probes_stuck',
      help: 'Probe and file helpers killed after overstaying their deadline that have not exited yet (stuck in the kernel on unresponsive storage).',
      registers: [r],
      collect() {
        this.set(self.src.stuckHelpers());
      },
    });
    for (const [what, help] of [
      ['started', 'File helper processes started, per lane (csi, probe). Steady growth means helpers keep being killed: storage hangs.'],
      ['killed', 'File helper processes killed because a request overstayed its deadline, per lane.'],
    ] as const) {
      new Counter({
        name: `csi_driver_file_helpers_${what}_total`,
        help,
        labelNames: ['lane'],
        registers: [r],
        collect() {
          const totals = self.src.helperTotals?.();
          if (!totals) return;
          this.reset();
          for (const lane of ['csi', 'probe'] as const) this.inc({ lane }, totals[lane][what]);
        },
      });
    }
    new Gauge({
      name: 'csi_driver_healthy',
      help: '1 when every monitored mount is healthy and the share is reachable, else 0 (the same verdict as /healthz/ready).',
      registers: [r],
      collect() {
        this.set(self.src.driverHealthy() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'csi_driver_storage_reachable',
      help: '1 when the share answers from this process, else 0.',
      registers: [r],
      collect() {
        this.set(self.src.storageReachable() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'csi_driver_node_state_rebuilt',
      help: '1 when the node state file was corrupt at start and the node rebuilt its mount records from the mount table (the corrupt file is kept beside it as .corrupt), else 0.',
      registers: [r],
      collect() {
        this.set(self.src.nodeStateRebuilt?.() ? 1 : 0);
      },
    });
    this.probeDuration = new Histogram({
      name: 'csi_driver_probe_duration_seconds',
      help: 'Duration of health probes (mount table, lookup, write/fsync/read/delete, statfs), by mount kind and result.',
      labelNames: ['kind', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    this.probeErrors = new Counter({
      name: 'csi_driver_probe_errors_total',
      help: 'Failed health probes by volume and reason (MountUnresponsive, StaleFileHandle, TransportError, ...).',
      labelNames: ['volume_id', 'reason'],
      registers: [r],
      collect() {
        self.dropUnmountedVolumes();
      },
    });
    this.probeTimeouts = new Counter({
      name: 'csi_driver_probe_timeouts_total',
      help: 'Health probes that overstayed --health-check-timeout and whose helper was killed.',
      registers: [r],
    });
    this.grpcRequests = new Counter({
      name: 'csi_driver_grpc_requests_total',
      help: 'CSI gRPC requests by method and status code.',
      labelNames: ['method', 'code'],
      registers: [r],
    });
    this.grpcDuration = new Histogram({
      name: 'csi_driver_grpc_request_duration_seconds',
      help: 'Latency of CSI gRPC requests by method.',
      labelNames: ['method'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [r],
    });
    this.mountOps = new Counter({
      name: 'csi_driver_mount_operations_total',
      help: 'mount/umount commands by operation (mount, bind, umount, umount_force, umount_lazy, umount_dead) and result.',
      labelNames: ['operation', 'result'],
      registers: [r],
    });
    this.mountDuration = new Histogram({
      name: 'csi_driver_mount_operation_duration_seconds',
      help: 'Duration of mount/umount commands by operation.',
      labelNames: ['operation'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [r],
    });
  }

  /** Points the gauges at the parts they report on, once those exist. */
  watch(src: MetricsSources): void {
    this.src = src;
  }

  observeRpc(method: string, code: status, seconds: number): void {
    this.grpcRequests.inc({ method, code: grpc.status[code] ?? String(code) });
    this.grpcDuration.observe({ method }, seconds);
  }

  observeMount(op: MountOperation, seconds: number, ok: boolean): void {
    this.mountOps.inc({ operation: op, result: ok ? 'success' : 'failure' });
    this.mountDuration.observe({ operation: op }, seconds);
  }

  observeProbe(m: MountHealth, seconds: number, issue: HealthIssue | undefined): void {
    const failed = issue !== undefined && m.consecutiveErrors > 0;
    this.probeDuration.observe({ kind: m.reg.kind, result: failed ? 'error' : 'ok' }, seconds);
    if (failed && issue) {
      this.probeErrors.inc({ volume_id: m.reg.volumeId, reason: issue.reason });
      const reasons = this.errorReasons.get(m.reg.volumeId) ?? new Set<string>();
      this.errorReasons.set(m.reg.volumeId, reasons.add(issue.reason));
      if (issue.reason === 'MountUnresponsive') this.probeTimeouts.inc();
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Probe-error series of volumes with no mount left here go, as the health-state series do:
   * kept, they would pile up with every volume that ever had a failed check on this node.
   */
  private dropUnmountedVolumes(): void {
    if (this.errorReasons.size === 0) return;
    const mounted = new Set(this.src.mounts().map((m) => m.reg.volumeId));
    for (const [volumeId, reasons] of this.errorReasons) {
      if (mounted.has(volumeId)) continue;
      for (const reason of reasons) this.probeErrors.remove({ volume_id: volumeId, reason });
      this.errorReasons.delete(volumeId);
    }
  }

  /** The worst state of each volume and mount kind, the labels kept as fields (the key only groups). */
  private worstStates(): Iterable<{ volumeId: string; kind: string; state: MountState }> {
    const out = new Map<string, { volumeId: string; kind: string; state: MountState }>();
    for (const m of this.src.mounts()) {
      const key = `${m.reg.volumeId}\0${m.reg.kind}`;
      const injected = this.src.issuesOf(m.reg.path).some((i) => i.injected);
      const st: MountState = injected && (m.state === 'healthy' || m.state === 'unknown') ? 'degraded' : m.state;
      const prev = out.get(key);
      if (!prev || stateRank[st] > stateRank[prev.state]) out.set(key, { volumeId: m.reg.volumeId, kind: m.reg.kind, state: st });
    }
    return out.values();
  }
}
