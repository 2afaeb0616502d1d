import type { ProbeResult } from '../isolation/fsOps';
import { issueFromErrorCode, type HealthIssue } from './healthIssue';
import type { MountHealth, MountState } from './mountHealth';
import { isLowOnSpace, statfsBytes } from '../backend/statfsBytes';

export interface Thresholds {
  /** Consecutive failures before a mount is unhealthy (the first failure makes it degraded). */
  failureThreshold: number;
  /** Consecutive successes before a failing mount is healthy again. */
  successThreshold: number;
}

/** The issue a failed probe stands for. */
export function classifyProbe(r: ProbeResult, readOnly: boolean): HealthIssue {
  const where = r.failedStep ? ` (${r.failedStep})` : '';
  const message = `${r.message ?? 'probe failed'}${where}`;
  if (r.code === 'ENOTMOUNTED' || r.code === 'EWRONGSOURCE' || r.code === 'EWRONGMOUNT')
    return { status: 'INACCESSIBLE', reason: 'NotMounted', message };
  // Something in the volume took the place of the probe's own directory; it was moved aside.
  if (r.code === 'ETAMPERED') return { status: 'DEGRADED', reason: 'ProbeDirectoryTampered', message };
  if ((r.code === 'ENOENT' && r.failedStep === 'stat') || r.code === 'ESOURCEDELETED')
    return { status: 'INACCESSIBLE', reason: 'VolumeNotFound', message };
  return issueFromErrorCode(r.code, message, !readOnly);
}

/**
 * Folds one probe result into a mount's state: issues show from the first failure; the state
 * turns unhealthy after `failureThreshold` severe failures in a row, and back to healthy (issues
 * cleared) only after `successThreshold` successes in a row. Returns the probe's issue and the
 * previous state when it changed.
 */
export function applyProbeResult(
  m: MountHealth,
  r: ProbeResult,
  elapsedMs: number,
  now: number,
  t: Thresholds,
): { issue: HealthIssue | undefined; from: MountState | undefined } {
  const before = m.state;
  m.lastCheckTime = now;
  m.responseTimeMs = Math.round(elapsedMs);
  let issue: HealthIssue | undefined;
  let state: MountState = m.state;
  if (r.ok) {
    if (r.statfs) m.statfs = r.statfs;
    const b = r.statfs ? statfsBytes(r.statfs) : undefined;
    if (b && isLowOnSpace(b.totalBytes, b.availableBytes)) {
      issue = { status: 'DEGRADED', reason: 'NoSpace', message: `${b.availableBytes} of ${b.totalBytes} bytes free` };
    }
    m.consecutiveErrors = 0;
    m.consecutiveSuccesses++;
    if (m.state === 'unknown' || m.state === 'healthy' || m.consecutiveSuccesses >= t.successThreshold) {
      m.issues = issue ? [issue] : [];
      state = issue ? 'degraded' : 'healthy';
    }
  } else {
    issue = classifyProbe(r, m.reg.readOnly);
    m.errorCount++;
    m.consecutiveErrors++;
    m.consecutiveSuccesses = 0;
    m.lastError = `${issue.reason}: ${issue.message}`;
    m.issues = [issue];
    state = issue.status !== 'DEGRADED' && m.consecutiveErrors >= t.failureThreshold ? 'unhealthy' : 'degraded';
  }
  if (state === before) return { issue, from: undefined };
  m.state = state;
  m.since = now;
  return { issue, from: before };
}
