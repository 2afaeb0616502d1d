/** A problem with the share as seen from this process (v1.13 NodeGetStorageHealth). */
export interface StorageIssue {
  status: 'STORAGE_DEGRADED' | 'STORAGE_UNREACHABLE';
  reason: string;
  message: string;
  /** The errno-like code behind it (ESTALE, ENOTCONN, ETIMEDOUT, ...), when one is known. */
  code?: string;
}
