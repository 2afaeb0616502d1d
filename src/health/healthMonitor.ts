import type { Logger } from 'pino';
import type { FsHelperPool } from '../backend/fsHelperPool';
import type { ProbeResult, StatfsResult } from '../backend/fsOps';
import { IsolationTimeoutError } from '../backend/isolationErrors';
import { findMount, type MountEntry, type MountTableReader } from '../backend/mountTable';
import type { Clock } from './clock';
import { issueFromErrorCode, uniqueIssues, type HealthIssue } from './healthIssue';
import type { MountHealth, MountState } from './mountHealth';
import type { MountRegistration } from './mountRegistration';
import type { NodeHealthView, StorageIssue } from './nodeHealthView';

export interface HealthMonitorOptions {
  pool: FsHelperPool;
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

const hiddenDir = '.csi-health';
/** Below this share of free space a mount is reported as running out of space. */
const lowSpaceFraction = 0.02;

/**
 * Checks every registered mount with real I/O on a schedule: each mount once per interval,
 * spread by jitter, at most one probe per mount in flight, a bounded number overall, every
 * probe in a killable helper with a hard deadline. The results feed CSI (VolumeCondition and
 * v1.13 health), /healthz and metrics.
 */
export class HealthMonitor implements NodeHealthView {
  private readonly mounts = new Map<string, MountHealth>();
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private lastTickAt = 0;
  private broken: string | undefined;
  private storage: StorageIssue[] = [];
  private storageCheckedAt = 0;
  private storageChecking = false;
  private table: { at: number; entries: Promise<MountEntry[]> } | undefined;
  private readonly tickMs: number;

  constructor(private readonly o: HealthMonitorOptions) {
    this.tickMs = Math.max(50, Math.min(1000, Math.floor(o.intervalMs / 10)));
  }

  start(): void {
    this.lastTickAt = this.o.clock.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  register(reg: MountRegistration): void {
    const now = this.o.clock.now();
    const old = this.mounts.get(reg.path);
    if (old && old.reg.volumeId === reg.volumeId) {
      old.reg = reg;
      return;
    }
    this.mounts.set(reg.path, {
      reg,
      state: 'unknown',
      issues: [],
      lastCheckTime: 0,
      responseTimeMs: 0,
      errorCount: 0,
      consecutiveErrors: 0,
      consecutiveSuccesses: 0,
      lastError: '',
      since: now,
      statfs: undefined,
      // The first check comes soon; later ones are spread over the interval.
      nextDueAt: now + Math.floor(this.o.clock.random() * Math.min(this.o.intervalMs, 2000)),
      inFlight: false,
      stuck: false,
    });
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
    const out = [...this.storage];
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
      const now = this.o.clock.now();
      this.lastTickAt = now;
      if (this.o.checkStorage && !this.storageChecking && now - this.storageCheckedAt >= this.o.intervalMs) this.runStorageCheck();
      const free = this.o.concurrency - this.running;
      if (free > 0) {
        // Longest-waiting first, so that slow (hung) mounts cannot starve the others.
        const due: MountHealth[] = [];
        for (const m of this.mounts.values()) if (!m.inFlight && m.nextDueAt <= now) due.push(m);
        if (due.length > free) due.sort((a, b) => a.nextDueAt - b.nextDueAt);
        for (const m of due.slice(0, free)) {
          // Keep the mount's jittered phase; a mount that fell behind starts a fresh interval.
          const next = m.nextDueAt + this.o.intervalMs;
          m.nextDueAt = next > now ? next : now + this.o.intervalMs;
          void this.probe(m);
        }
      }
      this.broken = undefined;
    } catch (err) {
      this.broken = (err as Error).message;
      this.o.logger.error({ err }, 'health monitor tick failed');
    }
  }

  /** Checks one mount now (also used right after a mount is made). */
  async probe(m: MountHealth): Promise<void> {
    if (m.inFlight) return;
    m.inFlight = true;
    this.running++;
    const started = this.o.clock.now();
    let result: ProbeResult;
    let gone: Promise<void> = Promise.resolve();
    try {
      const entry = findMount(await this.mountTable(), m.reg.path);
      if (!entry) result = { ok: false, code: 'ENOTMOUNTED', message: `${m.reg.path} is not in the mount table` };
      else if (m.reg.expectedSource && entry.source !== m.reg.expectedSource) {
        result = { ok: false, code: 'EWRONGSOURCE', message: `${m.reg.path} is mounted from ${entry.source}, expected ${m.reg.expectedSource}` };
      } else {
        const run = this.o.pool.runTracked(
          { op: 'probe', path: m.reg.path, write: !m.reg.readOnly, hiddenDir, delayMs: this.o.faults?.probeDelayMs(m.reg.volumeId) ?? 0 },
          this.o.timeoutMs,
        );
        gone = run.gone;
        result = await run.result;
      }
    } catch (err) {
      result = err instanceof IsolationTimeoutError
        ? { ok: false, code: 'ETIMEDOUT', message: `probe did not answer within ${this.o.timeoutMs}ms: mount is unresponsive` }
        : { ok: false, code: 'EUNKNOWN', message: (err as Error).message };
    } finally {
      this.running--;
    }
    const seconds = (this.o.clock.now() - started) / 1000;
    const issue = this.record(m, result, seconds);
    this.o.observer?.probeDone(m, seconds, issue);
    m.stuck = result.code === 'ETIMEDOUT';
    // No new probe for this mount until the stuck helper is really gone.
    void gone.then(() => {
      m.inFlight = false;
      m.stuck = false;
    });
  }

  private record(m: MountHealth, r: ProbeResult, seconds: number): HealthIssue | undefined {
    const now = this.o.clock.now();
    m.lastCheckTime = now;
    m.responseTimeMs = Math.round(seconds * 1000);
    let issue: HealthIssue | undefined;
    if (r.ok) {
      if (r.statfs) m.statfs = r.statfs;
      const s = r.statfs;
      if (s && s.blocks > 0 && s.bavail <= s.blocks * lowSpaceFraction) {
        issue = { status: 'DEGRADED', reason: 'NoSpace', message: `${s.bavail * s.bsize} of ${s.blocks * s.bsize} bytes free` };
      }
      m.consecutiveErrors = 0;
      m.consecutiveSuccesses++;
      if (m.state === 'unknown' || m.state === 'healthy' || m.consecutiveSuccesses >= this.o.successThreshold) {
        m.issues = issue ? [issue] : [];
        this.setState(m, issue ? 'degraded' : 'healthy', now);
      }
      return issue;
    }
    issue = this.classify(m, r);
    m.errorCount++;
    m.consecutiveErrors++;
    m.consecutiveSuccesses = 0;
    m.lastError = `${issue.reason}: ${issue.message}`;
    m.issues = [issue];
    const severe = issue.status !== 'DEGRADED';
    this.setState(m, severe && m.consecutiveErrors >= this.o.failureThreshold ? 'unhealthy' : 'degraded', now);
    return issue;
  }

  private classify(m: MountHealth, r: ProbeResult): HealthIssue {
    const where = r.failedStep ? ` (${r.failedStep})` : '';
    const message = `${r.message ?? 'probe failed'}${where}`;
    if (r.code === 'ENOTMOUNTED' || r.code === 'EWRONGSOURCE') return { status: 'INACCESSIBLE', reason: 'NotMounted', message };
    if (r.code === 'ENOENT' && r.failedStep === 'stat') return { status: 'INACCESSIBLE', reason: 'VolumeNotFound', message };
    return issueFromErrorCode(r.code, message, !m.reg.readOnly);
  }

  private setState(m: MountHealth, state: MountState, now: number): void {
    if (m.state === state) return;
    const from = m.state;
    m.state = state;
    m.since = now;
    if (from !== 'unknown' || state !== 'healthy') {
      this.o.logger.info({ volumeId: m.reg.volumeId, path: m.reg.path, from, to: state, reasons: m.issues.map((i) => i.reason) }, 'mount health changed');
    }
    this.o.observer?.stateChanged(m, from);
  }

  /** One read of the mount table serves all probes of a tick. */
  private mountTable(): Promise<MountEntry[]> {
    const now = this.o.clock.now();
    if (!this.table || now - this.table.at > this.tickMs) this.table = { at: now, entries: this.o.readTable() };
    return this.table.entries;
  }

  private runStorageCheck(): void {
    const check = this.o.checkStorage;
    if (!check) return;
    this.storageChecking = true;
    this.storageCheckedAt = this.o.clock.now();
    check()
      .then((issues) => (this.storage = issues))
      .catch((err: Error) => (this.storage = [{ status: 'STORAGE_UNREACHABLE', reason: 'StorageCheckFailed', message: err.message }]))
      .finally(() => (this.storageChecking = false));
  }
}
