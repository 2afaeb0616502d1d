import type { StatfsResult } from '../isolation/fsOps';
import type { HealthIssue } from './healthIssue';
import type { MountRegistration } from './mountRegistration';

export type MountState = 'unknown' | 'healthy' | 'degraded' | 'unhealthy';

/** Everything the monitor knows about one mount; kept small (it is held for every mount). */
export interface MountHealth {
  reg: MountRegistration;
  state: MountState;
  /** Adverse conditions seen by the last checks (empty once recovered). */
  issues: HealthIssue[];
  lastCheckTime: number;
  responseTimeMs: number;
  errorCount: number;
  consecutiveErrors: number;
  consecutiveSuccesses: number;
  lastError: string;
  /** When `state` last changed (ms since epoch). */
  since: number;
  statfs: StatfsResult | undefined;
  nextDueAt: number;
  /** A probe is running, or its killed helper has not exited yet. */
  inFlight: boolean;
  /** The helper of the last probe was killed and has not exited yet. */
  stuck: boolean;
  /** Being taken down: no new probes, and what was known stays reported until it is gone. */
  retiring: boolean;
}

/** The record of a mount just registered: unknown until its first check at `firstDueAt`. */
export function newMountHealth(reg: MountHealth['reg'], now: number, firstDueAt: number): MountHealth {
  return {
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
    nextDueAt: firstDueAt,
    inFlight: false,
    stuck: false,
    retiring: false,
  };
}

/** The JSON shape of a mount in /healthz/mounts. */
export interface MountHealthReport {
  volumeId: string;
  kind: 'staging' | 'publish';
  readOnly: boolean;
  state: MountState;
  reasons: string[];
  issues: HealthIssue[];
  lastCheckTime: string | null;
  responseTimeMs: number | null;
  errorCount: number;
  consecutiveErrors: number;
  lastError: string | null;
  since: string;
  stuck: boolean;
  injected: boolean;
}

export function toReport(m: MountHealth, issues: HealthIssue[]): MountHealthReport {
  return {
    volumeId: m.reg.volumeId,
    kind: m.reg.kind,
    readOnly: m.reg.readOnly,
    state: issues.some((i) => i.injected) && (m.state === 'healthy' || m.state === 'unknown') ? 'degraded' : m.state,
    reasons: issues.map((i) => i.reason),
    issues,
    lastCheckTime: m.lastCheckTime ? new Date(m.lastCheckTime).toISOString() : null,
    responseTimeMs: m.lastCheckTime ? m.responseTimeMs : null,
    errorCount: m.errorCount,
    consecutiveErrors: m.consecutiveErrors,
    lastError: m.lastError || null,
    since: new Date(m.since).toISOString(),
    stuck: m.stuck,
    injected: issues.some((i) => i.injected),
  };
}
