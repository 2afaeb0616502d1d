import type { Clock } from './clock';
import type { HealthIssue, HealthStatus } from './healthIssue';

export type FaultOperation = 'mount' | 'stage' | 'publish';

interface Timed {
  until: number | undefined;
}

interface InjectedCondition extends Timed {
  issue: HealthIssue;
}

interface InjectedLatency extends Timed {
  ms: number;
}

interface InjectedFailures extends Timed {
  remaining: number;
  message: string;
}

/** An error made on purpose by the fault-injection API. */
export class InjectedFaultError extends Error {
  constructor(op: FaultOperation, message: string) {
    super(`injected ${op} failure: ${message}`);
    this.name = 'InjectedFaultError';
  }
}

/**
 * Faults set on demand (the reference-driver role): a condition on a volume, extra probe
 * latency, or failures of the next N mount/stage/publish calls; each may expire.
 */
export class FaultInjector {
  private readonly conditions = new Map<string, InjectedCondition>();
  private readonly latencies = new Map<string, InjectedLatency>();
  private readonly failures = new Map<FaultOperation, InjectedFailures>();

  constructor(private readonly clock: Clock) {}

  setCondition(volumeId: string, status: HealthStatus, reason: string, message: string, durationMs?: number): void {
    this.conditions.set(volumeId, { issue: { status, reason, message, injected: true }, until: this.until(durationMs) });
  }

  setLatency(volumeId: string, ms: number, durationMs?: number): void {
    this.latencies.set(volumeId, { ms, until: this.until(durationMs) });
  }

  failNext(op: FaultOperation, count: number, message: string, durationMs?: number): void {
    this.failures.set(op, { remaining: count, message, until: this.until(durationMs) });
  }

  /** Removes every fault of a volume, or all faults. */
  clear(volumeId?: string): void {
    if (volumeId === undefined) {
      this.conditions.clear();
      this.latencies.clear();
      this.failures.clear();
      return;
    }
    this.conditions.delete(volumeId);
    this.latencies.delete(volumeId);
  }

  issuesFor(volumeId: string): HealthIssue[] {
    const c = this.live(this.conditions, volumeId);
    return c ? [c.issue] : [];
  }

  probeDelayMs(volumeId: string): number {
    return this.live(this.latencies, volumeId)?.ms ?? 0;
  }

  /** Throws when a failure is armed for `op` (and counts it down). */
  consume(op: FaultOperation): void {
    const f = this.live(this.failures, op);
    if (!f || f.remaining <= 0) return;
    f.remaining--;
    if (f.remaining === 0) this.failures.delete(op);
    throw new InjectedFaultError(op, f.message);
  }

  /** Everything armed now, for /healthz and the API. */
  list(): { conditions: Record<string, HealthIssue>; latencies: Record<string, number>; failures: Record<string, number> } {
    const out = {
      conditions: {} as Record<string, HealthIssue>,
      latencies: {} as Record<string, number>,
      failures: {} as Record<string, number>,
    };
    for (const k of [...this.conditions.keys()]) {
      const c = this.live(this.conditions, k);
      if (c) out.conditions[k] = c.issue;
    }
    for (const k of [...this.latencies.keys()]) {
      const l = this.live(this.latencies, k);
      if (l) out.latencies[k] = l.ms;
    }
    for (const k of [...this.failures.keys()]) {
      const f = this.live(this.failures, k);
      if (f) out.failures[k] = f.remaining;
    }
    return out;
  }

  private until(durationMs: number | undefined): number | undefined {
    return durationMs && durationMs > 0 ? this.clock.now() + durationMs : undefined;
  }

  private live<K, V extends Timed>(map: Map<K, V>, key: K): V | undefined {
    const v = map.get(key);
    if (v && v.until !== undefined && v.until <= this.clock.now()) {
      map.delete(key);
      return undefined;
    }
    return v;
  }
}
