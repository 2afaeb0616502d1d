/** v1.13 VolumeHealthErrorType values this driver reports. */
export type HealthStatus = 'DEGRADED' | 'INACCESSIBLE' | 'DATA_LOSS';

/** One adverse condition of a volume: a v1.13 health entry, also shown as a v1.12 condition. */
export interface HealthIssue {
  status: HealthStatus;
  /** Short CamelCase word: MountUnresponsive, StaleFileHandle, VolumeNotFound, ... */
  reason: string;
  message: string;
  /** Set by the fault-injection API rather than seen on storage. */
  injected?: boolean;
}

/** The v1.12 VolumeCondition for a list of issues: abnormal with every message, or normal. */
export function toVolumeCondition(issues: readonly HealthIssue[]): { abnormal: boolean; message: string } {
  if (issues.length === 0) return { abnormal: false, message: 'volume is healthy' };
  return { abnormal: true, message: issues.map((i) => `${i.reason}: ${i.message}`).join('; ') };
}

/** (status, reason) is unique per volume in v1.13: keep the first of each pair. */
export function uniqueIssues(issues: readonly HealthIssue[]): HealthIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.status}/${i.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Classifies an errno-like code from a failed storage operation. */
export function issueFromErrorCode(code: string | undefined, message: string, writable: boolean): HealthIssue {
  switch (code) {
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return { status: 'INACCESSIBLE', reason: 'MountUnresponsive', message };
    case 'ESTALE':
      return { status: 'INACCESSIBLE', reason: 'StaleFileHandle', message };
    // ECONNABORTED: a FUSE request in flight when its connection was aborted (umount -f).
    case 'ENOTCONN':
    case 'ECONNABORTED':
    case 'EIO':
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ECONNRESET':
      return { status: 'INACCESSIBLE', reason: 'TransportError', message };
    case 'ENOENT':
      return { status: 'INACCESSIBLE', reason: 'VolumeNotFound', message };
    case 'EROFS':
      return writable ? { status: 'DEGRADED', reason: 'ReadOnlyFilesystem', message } : { status: 'DEGRADED', reason: 'IoError', message };
    case 'ENOSPC':
    case 'EDQUOT':
      return { status: 'DEGRADED', reason: 'NoSpace', message };
    case 'EMISMATCH':
      return { status: 'DATA_LOSS', reason: 'DataMismatch', message };
    case 'EACCES':
    case 'EPERM':
      return { status: 'INACCESSIBLE', reason: 'PermissionDenied', message };
    default:
      return { status: 'INACCESSIBLE', reason: 'IoError', message: `${code ?? 'error'}: ${message}` };
  }
}
