import type { Logger } from 'pino';
import type { FileRunner } from '../isolation/fsHelperPool';
import type { ProbeResult, StatfsResult } from '../isolation/fsOps';
import type { MountTableReader } from '../mount/mountTable';
import { MountTableCache } from './mountTableCache';
import { StorageWatch } from './storageWatch';
import type { Clock } from './clock';
import { uniqueIssues, type HealthIssue } from './healthIssue';
import { applyProbeResult } from './applyProbeResult';
import { newMountHealth, type MountHealth, type MountState } from './mountHealth';
import type { MountRegistration } from './mountRegistration';
import type { NodeHealthView, StorageIssue } from './nodeHealthView';
import { mountTableProblem, probeBatch, probeOne, type TimedProbe } from './probeMount';
import { canBatch, nextDueTime, selectDue } from './probePlan';

export interface HealthMonitorOptions {
  pool: FileRunner;
  readTable: MountTableReader;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  concurrency: number;
  /** Checks the share as seen from this node; run once per interval. */
  checkStorage?: () => Promise<StorageIssue[]>;
  /** Issues and probe latency set through the fault-injection API. */
  faults?: { issuesFor(volumeId: string): HealthIssue[]; probeDelayMs(volumeId: string): number };
  observer?: MonitorObserver;
}

/** Told of every finished probe, for metrics. */
export interface MonitorObserver {
  probeDone(m: MountHealth, seconds: number, issue: HealthIssue | undefined): void;
  stateChanged(m: MountHealth, from: MountState): void;
}

/** Most mounts in one probe batch. */
const maxBatch = 128;

/**
 * Checks every registered mount with real I/O on a schedule: each mount once per interval,
 * spread by jitter, at most one probe per mount in flight, a bounded number overall, every
 * probe in a killable helper with a hard deadline. The results feed CSI (VolumeCondition and
 * v1.13 health), /healthz and metrics.
 */
export class HealthMonitor implements NodeHealthView {
  private readonly mounts = new Map<string, MountHealth>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;
  /** No mount is due before this time (ms), unless registered or freed since. */
  private earliestDue = 0;
  private running = 0;
  private lastTickAt = 0;
  private broken: string | undefined;
  private readonly storage: StorageWatch;
  private readonly table: MountTableCache;
  private readonly tickMs: number;
  /** How far ahead batched mounts are probed, and the deadline of a batch. */
  private readonly batchWindowMs: number;

  constructor(private readonly o: HealthMonitorOptions) {
    this.tickMs = Math.max(50, Math.min(1000, Math.floor(o.intervalMs / 10)));
    // A healthy batch answers in milliseconds; a second is a generous deadline for it.
    this.batchWindowMs = Math.min(Math.floor(o.intervalMs / 10), Math.floor(o.timeoutMs / 2), 1000);
    this.table = new MountTableCache(o.readTable, o.clock, Math.min(o.intervalMs, 10_000));
    this.storage = new StorageWatch(o.checkStorage, o.clock, o.intervalMs);
  }

  start(): void {
    this.lastTickAt = this.o.clock.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.wake) clearTimeout(this.wake.timer);
    this.timer = undefined;
    this.wake = undefined;
    this.stopped = true;
  }

  register(reg: MountRegistration): void {
    const now = this.o.clock.now();
    const old = this.mounts.get(reg.path);
    if (old && old.reg.volumeId === reg.volumeId) {
      old.reg = reg;
      return;
    }
    // The first check comes soon; later ones are spread over the interval.
    this.mounts.set(reg.path, newMountHealth(reg, now, now + Math.floor(this.o.clock.random() * Math.min(this.o.intervalMs, 2000))));
    this.earliestDue = 0;
    // The new mount is not in a table read before it was made.
    this.table.invalidate();
  }

  unregister(path: string): void {
    this.mounts.delete(path);
  }

  get(path: string): MountHealth | undefined {
    return this.mounts.get(path);
  }

  all(): MountHealth[] {
    return [...this.mounts.values()];
  }

  issuesOf(path: string): HealthIssue[] {
    const m = this.mounts.get(path);
    if (!m) return [];
    return uniqueIssues([...(this.o.faults?.issuesFor(m.reg.volumeId) ?? []), ...m.issues]);
  }

  lastStatfs(path: string): StatfsResult | undefined {
    return this.mounts.get(path)?.statfs;
  }

  recordStatfs(path: string, s: StatfsResult): void {
    const m = this.mounts.get(path);
    if (m) m.statfs = s;
  }

  storageIssues(): StorageIssue[] {
    const out = [...this.storage.last()];
    const sick = this.all().filter((m) => m.state === 'unhealthy');
    if (sick.length > 0 && !out.some((s) => s.status === 'STORAGE_UNREACHABLE')) {
      out.push({ status: 'STORAGE_DEGRADED', reason: 'MountsUnhealthy', message: `${sick.length} of ${this.mounts.size} mounts on this node are unhealthy` });
    }
    return out;
  }

  /** Lenient liveness: false only when the loop has stalled or broken. */
  loopAlive(): { ok: boolean; message: string } {
    if (this.broken) return { ok: false, message: `monitor loop failed: ${this.broken}` };
    const late = this.o.clock.now() - this.lastTickAt;
    if (this.timer && late > Math.max(10 * this.tickMs, 10_000)) return { ok: false, message: `monitor loop has not ticked for ${late}ms` };
    return { ok: true, message: 'monitor loop is ticking' };
  }

  /** Runs due probes now; the timer calls it, tests may too. */
  tick(): void {
    try {
      this.lastTickAt = this.o.clock.now();
      this.storage.poll();
      this.pump();
      this.broken = undefined;
    } catch (err) {
      this.broken = (err as Error).message;
      this.o.logger.error({ err }, 'health monitor tick failed');
    }
  }

  /** Checks one mount now, on its own helper with the full timeout. */
  async probe(m: MountHealth): Promise<void> {
    if (m.inFlight) return;
    m.inFlight = true;
    this.running++;
    const started = this.o.clock.now();
    let result: ProbeResult;
    let gone: Promise<void> = Promise.resolve();
    try {
      result = mountTableProblem(m.reg, await this.table.get()) ?? (await (() => {
        const run = probeOne(this.o.pool, m.reg, this.o.faults?.probeDelayMs(m.reg.volumeId) ?? 0, m.reg.timeoutMs ?? this.o.timeoutMs);
        gone = run.gone;
        return run.done;
      })());
    } catch (err) {
      result = { ok: false, code: 'EUNKNOWN', message: (err as Error).message };
    } finally {
      this.running--;
    }
    this.finishProbe(m, result, this.o.clock.now() - started);
    m.stuck = result.code === 'ETIMEDOUT';
    // No new probe for this mount until the stuck helper is really gone.
    void gone.then(() => this.release(m));
  }

  /**
   * Probes healthy, fast mounts together in one helper round trip with a short deadline. If the
   * batch overstays, each of its mounts is probed again on its own with the full timeout.
   */
  private async probeBatch(batch: MountHealth[], deadlineMs: number): Promise<void> {
    for (const m of batch) m.inFlight = true;
    this.running++;
    let results: TimedProbe[] | undefined;
    const ready: MountHealth[] = [];
    try {
      const table = await this.table.get();
      for (const m of batch) {
        const problem = mountTableProblem(m.reg, table);
        if (problem) this.finishProbe(m, problem, 0);
        else ready.push(m);
      }
      if (ready.length > 0) results = await probeBatch(this.o.pool, ready.map((m) => m.reg), deadlineMs);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'probe batch failed');
    } finally {
      this.running--;
    }
    if (results) {
      ready.forEach((m, i) => {
        const r = results?.[i];
        if (r) this.finishProbe(m, r.result, r.elapsedMs);
      });
    }
    for (const m of batch) {
      m.inFlight = false;
      if (!results && ready.includes(m)) void this.probe(m);
      else this.earliestDue = Math.min(this.earliestDue, m.nextDueAt);
    }
    this.pump();
  }

  private finishProbe(m: MountHealth, result: ProbeResult, elapsedMs: number): void {
    // Unregistered while its probe ran (an unpublish takes the mount down under it): what the
    // probe saw is that unpublish, not a fault, and no error to count or state to log.
    if (this.mounts.get(m.reg.path) !== m) return;
    const issue = this.record(m, result, elapsedMs / 1000);
    this.o.observer?.probeDone(m, elapsedMs / 1000, issue);
  }

  private release(m: MountHealth): void {
    m.inFlight = false;
    m.stuck = false;
    this.earliestDue = Math.min(this.earliestDue, m.nextDueAt);
    this.pump();
  }

  /**
   * Starts due probes while slots are free, longest-waiting first so that hung mounts cannot
   * starve the others. Mounts that were healthy and fast last time go in batches, formed from
   * those due within the next batch window; they are scheduled two windows early (one for the
   * batch's own deadline, one for the hand-over to a single probe), so that a batch that
   * overstays and the single probe after it still detect a fault within interval + timeout.
   * Single probes come one window early too, to cover the hand-over to a helper.
   */
  private pump(): void {
    if (this.stopped) return;
    let free = this.o.concurrency - this.running;
    if (free <= 0) return;
    const now = this.o.clock.now();
    if (now < this.earliestDue) return;
    const windowMs = this.batchWindowMs;
    const { single, moreSingles, batchable, earliest } = selectDue(this.mounts.values(), now, windowMs, (m) => canBatch(m, this.o.faults?.probeDelayMs(m.reg.volumeId) ?? 0), free);
    const schedule = (m: MountHealth, period: number): void => {
      m.nextDueAt = nextDueTime(m, now, period, () => this.o.clock.random(), this.tickMs);
    };
    while (free > 0 && batchable.length > 0) {
      const batch = batchable.splice(0, maxBatch);
      for (const m of batch) schedule(m, (m.reg.intervalMs ?? this.o.intervalMs) - 2 * windowMs);
      void this.probeBatch(batch, windowMs);
      free--;
    }
    while (free > 0 && single.length > 0) {
      const m = single.shift() as MountHealth;
      schedule(m, (m.reg.intervalMs ?? this.o.intervalMs) - windowMs);
      void this.probe(m);
      free--;
    }
    this.earliestDue = moreSingles || single.length > 0 || batchable.length > 0 ? now : earliest;
    this.wakeAt(this.earliestDue);
  }

  /** Wakes the scheduler exactly when the next mount is due, rather than at the next tick. */
  private wakeAt(due: number): void {
    if (this.stopped || !this.timer || !Number.isFinite(due)) return;
    if (this.wake && this.wake.at <= due) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.pump();
    }, Math.max(0, due - this.o.clock.now()));
    timer.unref();
    this.wake = { at: due, timer };
  }

  private record(m: MountHealth, r: ProbeResult, seconds: number): HealthIssue | undefined {
    const { issue, from } = applyProbeResult(m, r, seconds * 1000, this.o.clock.now(), this.o);
    if (from !== undefined) {
      if (from !== 'unknown' || m.state !== 'healthy') {
        this.o.logger.info({ volumeId: m.reg.volumeId, path: m.reg.path, from, to: m.state, reasons: m.issues.map((i) => i.reason) }, 'mount health changed');
      }
      this.o.observer?.stateChanged(m, from);
    }
    return issue;
  }
}
