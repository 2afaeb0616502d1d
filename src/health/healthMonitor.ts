import type { ProbeResult, StatfsResult } from '../isolation/fsOps';
import { IsolationTimeoutError } from '../isolation/isolationErrors';
import { MountTableCache } from './mountTableCache';
import { StorageWatch } from './storageWatch';
import type { HealthMonitorOptions } from './healthMonitorOptions';
import { nodeStorageIssues } from './nodeStorageIssues';
import { WakeTimer } from './wakeTimer';
import { uniqueIssues, type HealthIssue } from './healthIssue';
import { applyProbeResult } from './applyProbeResult';
import { newMountHealth, type MountHealth } from './mountHealth';
import type { MountRegistration } from './mountRegistration';
import type { NodeHealthView, StorageIssue } from './nodeHealthView';
import { mountTableProblem, probeItemOf, timeoutResult } from './probeMount';
import { isSuspect, nextDueTime, planRounds, roundWindowMs, suspectWindowMs, type PlannedRound } from './probePlan';

export type { HealthMonitorOptions, MonitorObserver } from './healthMonitorOptions';

/** Reasons that say a mount's server is gone: its teardown escalates at once. */
const deadReasons = new Set(['MountUnresponsive', 'TransportError', 'StaleFileHandle']);

/**
 * Checks every registered mount with real I/O on a schedule: each mount once per interval, at
 * most one probe per mount in flight. Probes go in rounds: one helper process probes a round's
 * mounts all at once and hands back each answer as it comes, and the round's deadline marks
 * every mount that did not answer unresponsive. So detection takes interval + timeout however
 * many mounts hang together (a whole server), and the number of helpers stays bounded by
 * `concurrency`. The results feed CSI (VolumeCondition and v1.13 health), /healthz and metrics.
 */
export class HealthMonitor implements NodeHealthView {
  private readonly mounts = new Map<string, MountHealth>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly wake: WakeTimer;
  /** No mount is due before this time (ms), unless registered or freed since. */
  private earliestDue = 0;
  private running = 0;
  private lastTickAt = 0;
  private broken: string | undefined;
  private lastRoundFailure: string | undefined;
  private readonly storage: StorageWatch;
  private readonly table: MountTableCache;
  private readonly tickMs: number;
  private readonly maxRoundSize: number;
  /** The round windows for the number of mounts they were last worked out for. */
  private windows = { mounts: -1, healthy: 0, suspect: 0 };

  constructor(private readonly opts: HealthMonitorOptions) {
    this.tickMs = Math.max(50, Math.min(1000, Math.floor(opts.intervalMs / 10)));
    this.maxRoundSize = opts.maxRoundSize ?? 128;
    this.table = new MountTableCache(opts.readTable, opts.clock, Math.min(opts.intervalMs, 10_000));
    this.storage = new StorageWatch(opts.checkStorage, opts.clock, opts.intervalMs);
    this.wake = new WakeTimer(
      () => opts.clock.now(),
      () => this.pump(),
    );
  }

  start(): void {
    this.lastTickAt = this.opts.clock.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.wake.clear();
    this.timer = undefined;
    this.stopped = true;
  }

  register(reg: MountRegistration): void {
    const now = this.opts.clock.now();
    const old = this.mounts.get(reg.path);
    if (old && old.reg.volumeId === reg.volumeId) {
      old.reg = reg;
      old.retiring = false;
      return;
    }
    // The first check comes soon; later ones are spread over the interval.
    this.mounts.set(reg.path, newMountHealth(reg, now, now + Math.floor(this.opts.clock.random() * Math.min(this.intervalOf(reg), 2000))));
    this.earliestDue = 0;
    // The new mount is not in a table read before it was made.
    this.table.invalidate();
  }

  /**
   * The mount is being taken down: no more probes, and what was known about it stays reported
   * (a stats call during the unmount must not see a "healthy" volume with no data).
   */
  retire(path: string, retiring = true): void {
    const m = this.mounts.get(path);
    if (m) m.retiring = retiring;
    if (!retiring) this.earliestDue = 0;
  }

  unregister(path: string): void {
    this.mounts.delete(path);
  }

  /** A copy of what is known of the mount at `path`. */
  get(path: string): Readonly<MountHealth> | undefined {
    const m = this.mounts.get(path);
    return m ? { ...m, issues: [...m.issues] } : undefined;
  }

  /** Copies of every mount's record. */
  all(): Array<Readonly<MountHealth>> {
    return [...this.mounts.values()].map((m) => ({ ...m, issues: [...m.issues] }));
  }

  issuesOf(path: string): HealthIssue[] {
    const m = this.mounts.get(path);
    if (!m) return [];
    return uniqueIssues([...(this.opts.faults?.issuesFor(m.reg.volumeId) ?? []), ...m.issues]);
  }

  /**
   * Whether the monitor knows the mount's server to be gone (hung, disconnected or stale): a
   * check of it is stuck, or its last check failed for one of those reasons. A mount whose last
   * check passed is not, even while its issue stays reported until the success threshold: a
   * forced unmount there would abort the requests in flight of every mount of that server.
   */
  knownDead(path: string): boolean {
    const m = this.mounts.get(path);
    return m !== undefined && (m.stuck || (m.consecutiveErrors > 0 && m.issues.some((i) => deadReasons.has(i.reason))));
  }

  lastStatfs(path: string): StatfsResult | undefined {
    return this.mounts.get(path)?.statfs;
  }

  recordStatfs(path: string, s: StatfsResult): void {
    const m = this.mounts.get(path);
    if (m) m.statfs = s;
  }

  storageIssues(): StorageIssue[] {
    return nodeStorageIssues(this.storage.last(), this.mounts.values(), this.mounts.size);
  }

  /** Lenient liveness: false only when the loop has stalled or broken. */
  loopAlive(): { ok: boolean; message: string } {
    if (this.broken) return { ok: false, message: `monitor loop failed: ${this.broken}` };
    const late = this.opts.clock.now() - this.lastTickAt;
    if (this.timer && late > Math.max(10 * this.tickMs, 10_000)) return { ok: false, message: `monitor loop has not ticked for ${late}ms` };
    return {
      ok: true,
      message: this.lastRoundFailure
        ? `monitor loop is ticking; last probe round failed: ${this.lastRoundFailure}`
        : 'monitor loop is ticking',
    };
  }

  /** Runs due probes now; the timer calls it, tests may too. */
  tick(): void {
    try {
      this.lastTickAt = this.opts.clock.now();
      this.storage.poll();
      this.pump();
      this.broken = undefined;
    } catch (err) {
      this.broken = (err as Error).message;
      this.opts.logger.error({ err }, 'health monitor tick failed');
    }
  }

  private intervalOf(reg: MountRegistration): number {
    return reg.intervalMs ?? this.opts.intervalMs;
  }

  /** Round windows for the mounts registered now (see roundWindowMs): three quarters of a full round, so that the count varying a little does not split one. */
  private roundWindows(): { healthy: number; suspect: number } {
    if (this.windows.mounts !== this.mounts.size) {
      const o = this.opts;
      const healthy = roundWindowMs(o.intervalMs, o.timeoutMs, o.concurrency, this.mounts.size, Math.floor((this.maxRoundSize * 3) / 4));
      this.windows = { mounts: this.mounts.size, healthy, suspect: suspectWindowMs(o.intervalMs, healthy) };
    }
    return this.windows;
  }

  private timeoutOf(reg: MountRegistration): number {
    return reg.timeoutMs ?? this.opts.timeoutMs;
  }

  /** Starts due rounds while the lane has room; rounds that waited longest go first. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.opts.clock.now();
    if (now < this.earliestDue || this.running >= this.opts.concurrency) return;
    const delay = (m: MountHealth): number => this.opts.faults?.probeDelayMs(m.reg.volumeId) ?? 0;
    const plan = planRounds(
      this.mounts.values(),
      now,
      this.roundWindows(),
      this.maxRoundSize,
      (m) => this.timeoutOf(m.reg),
      (m) => isSuspect(m, delay(m)),
    );
    let started = 0;
    for (const round of plan.rounds) {
      if (this.running >= this.opts.concurrency) break;
      for (const m of round.mounts) m.nextDueAt = nextDueTime(m, now, this.intervalOf(m.reg), () => this.opts.clock.random(), this.tickMs);
      void this.runRound(round, delay);
      started++;
    }
    // Rounds left over wait for a free helper: pump again as soon as one is.
    this.earliestDue = started < plan.rounds.length ? now : plan.earliest;
    // Wake exactly when the next mount is due, rather than at the next tick.
    if (this.timer) this.wake.at(this.earliestDue);
  }

  /** One round: mount-table problems are settled here, the rest probed together in one helper. */
  private async runRound(round: PlannedRound, delay: (m: MountHealth) => number): Promise<void> {
    const mounts = round.mounts;
    for (const m of mounts) m.inFlight = true;
    this.running++;
    const startedAt = this.opts.clock.now();
    const sent: MountHealth[] = [];
    let gone: Promise<void> = Promise.resolve();
    try {
      const table = await this.table.get();
      for (const m of mounts) {
        const problem = mountTableProblem(m.reg, table);
        if (problem) this.finishProbe(m, problem, 0);
        else sent.push(m);
      }
      if (sent.length > 0) {
        const run = this.opts.isolation.probeRound(
          sent.map((m) => probeItemOf(m.reg, delay(m), m.consecutiveErrors > 0 || m.stuck, table.get(m.reg.path)?.mountId)),
          round.timeoutMs,
        );
        gone = run.gone;
        const { results, failure } = await run.done;
        this.lastRoundFailure = failure && !(failure instanceof IsolationTimeoutError) ? failure.message : undefined;
        const elapsed = this.opts.clock.now() - startedAt;
        sent.forEach((m, i) => {
          const r = results[i];
          if (r) {
            const { elapsedMs, calm: _calm, ...result } = r;
            this.finishProbe(m, result, elapsedMs);
          } else if (failure instanceof IsolationTimeoutError) {
            this.finishProbe(m, timeoutResult(round.timeoutMs), elapsed);
            m.stuck = true;
          } else {
            // The isolation layer failed, not the storage: no verdict; try again soon.
            m.nextDueAt = Math.min(m.nextDueAt, this.opts.clock.now() + this.tickMs);
          }
        });
        if (failure && !(failure instanceof IsolationTimeoutError))
          this.opts.logger.warn({ err: failure.message, mounts: sent.length }, 'probe round could not run');
      }
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'probe round failed');
    } finally {
      this.running--;
    }
    // Mounts answered are free now; those that hung wait until their helper is really gone.
    for (const m of mounts) if (!m.stuck) m.inFlight = false;
    this.earliestDue = 0;
    this.pump();
    void gone.then(() => {
      for (const m of mounts) {
        m.inFlight = false;
        m.stuck = false;
      }
      this.earliestDue = 0;
      this.pump();
    });
  }

  private finishProbe(m: MountHealth, result: ProbeResult, elapsedMs: number): void {
    // Unregistered or being taken down while its probe ran: what the probe saw is that
    // unmount, not a fault: no error to count or state to log.
    if (this.mounts.get(m.reg.path) !== m || m.retiring) return;
    const issue = this.record(m, result, elapsedMs / 1000);
    this.opts.observer?.probeDone(m, elapsedMs / 1000, issue);
  }

  private record(m: MountHealth, r: ProbeResult, seconds: number): HealthIssue | undefined {
    const { issue, from } = applyProbeResult(m, r, seconds * 1000, this.opts.clock.now(), this.opts);
    if (from !== undefined) {
      if (from !== 'unknown' || m.state !== 'healthy') {
        this.opts.logger.info(
          { volumeId: m.reg.volumeId, path: m.reg.path, from, to: m.state, reasons: m.issues.map((i) => i.reason) },
          'mount health changed',
        );
      }
      this.opts.observer?.stateChanged(m, from);
    }
    return issue;
  }
}
