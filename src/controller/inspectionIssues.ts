import type { ShareCapacity, VolumeInspection } from '../backend/records';
import { issueFromErrorCode, type HealthIssue } from '../health/healthIssue';

/** Below this share of free space a volume is reported as running out of space. */
const lowSpaceFraction = 0.02;

/** What the controller sees of a volume's storage, as health issues (empty: healthy). */
export function inspectionIssues(id: string, insp: VolumeInspection, capacity: ShareCapacity | undefined): HealthIssue[] {
  const issues: HealthIssue[] = [];
  if (!insp.exists) {
    issues.push({ status: 'INACCESSIBLE', reason: 'VolumeNotFound', message: `the directory of volume ${id} is gone from the share` });
  } else if (!insp.accessible) {
    issues.push(issueFromErrorCode(insp.code, insp.message ?? 'volume directory is not accessible', true));
  } else if (!insp.metadataIntact) {
    issues.push({ status: 'DEGRADED', reason: 'MetadataCorrupt', message: insp.message ?? 'volume metadata is damaged' });
  }
  if (capacity && capacity.totalBytes > 0 && capacity.availableBytes <= capacity.totalBytes * lowSpaceFraction) {
    issues.push({
      status: 'DEGRADED',
      reason: 'NoSpace',
      message: `the share has ${capacity.availableBytes} of ${capacity.totalBytes} bytes free`,
    });
  }
  return issues;
}
