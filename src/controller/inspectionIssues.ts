import type { ShareCapacity, VolumeInspection } from '../backend/records';
import { issueFromErrorCode, type HealthIssue } from '../health/healthIssue';
import { isLowOnSpace } from '../backend/statfsBytes';

/**
 * What the controller sees of a volume's storage, as health issues (empty: healthy). Each kind of
 * damage has its own reason and a message that says exactly what is wrong:
 * - VolumeNotFound (INACCESSIBLE): the volume's directory is gone from the share;
 * - DataDirectoryMissing (DATA_LOSS): the directory is there, its data/ is not;
 * - MetadataCorrupt (DATA_LOSS): volume.json is missing, not JSON, or not this volume's record.
 */
export function inspectionIssues(id: string, insp: VolumeInspection, capacity: ShareCapacity | undefined): HealthIssue[] {
  const issues: HealthIssue[] = [];
  if (!insp.exists) {
    issues.push({
      status: 'INACCESSIBLE',
      reason: 'VolumeNotFound',
      message: `the directory volumes/${id} of volume ${id} is gone from the share`,
    });
  } else if (insp.dataMissing) {
    issues.push({ status: 'DATA_LOSS', reason: 'DataDirectoryMissing', message: insp.message ?? `data/ of volume ${id} is missing` });
  } else if (!insp.accessible) {
    issues.push(issueFromErrorCode(insp.code, insp.message ?? `the directory of volume ${id} is not accessible`, true));
  }
  if (insp.exists && insp.metadataProblem) {
    issues.push({
      status: 'DATA_LOSS',
      reason: 'MetadataCorrupt',
      message: `volumes/${id}/volume.json of volume ${id} ${insp.metadataProblem}`,
    });
  }
  if (capacity && isLowOnSpace(capacity.totalBytes, capacity.availableBytes)) {
    issues.push({
      status: 'DEGRADED',
      reason: 'NoSpace',
      message: `the share has ${capacity.availableBytes} of ${capacity.totalBytes} bytes free`,
    });
  }
  return issues;
}
