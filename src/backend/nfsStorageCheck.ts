import type { FsHelperPool } from '../isolation/fsHelperPool';
import { pingServer, type PingKind, type ServerPing } from './nfsServerPing';
import { shareStorageCheck } from './shareStorageCheck';
import type { StorageIssue } from './storageIssue';

/** The controller's work mount, as the check needs it. */
export interface CheckedShareRoot {
  pool: FsHelperPool;
  /** The mounted root, or undefined while it is not mounted (it is mounted on first use). */
  mountedPath(): Promise<string | undefined>;
  /** The root failed with this errno-like code (ETIMEDOUT for no answer). */
  markSuspect(code: string): void;
  markHealthy(): void;
}

export interface NfsStorageCheckOptions {
  /** The server as it is mounted (name or address; IPv6 may be bracketed). */
  host: string;
  port: number;
  /** Deadline of each step (the health-check timeout). */
  timeoutMs: number;
  /** `nfs-null` for plain NFS; `tcp` where a plaintext RPC may be refused (EFS through TLS). */
  pingKind: PingKind;
  ping?: ServerPing;
  /** Only on the controller: the work mount of the share root. */
  shareRoot?: CheckedShareRoot;
}

/**
 * Storage health of the nfs backend, as this process sees it: does the server answer (a TCP
 * connect, plus an NFS NULL call for plain NFS, with a deadline), and on the controller does
 * the mounted share root answer a stat and statfs in a killable helper. A failing root is
 * marked suspect, so that the next controller call verifies it before use; whether to mount it
 * again now is its caller's decision (see remountCuresIssue). Each issue carries its code.
 */
export function nfsStorageCheck(o: NfsStorageCheckOptions): () => Promise<StorageIssue[]> {
  const ping = o.ping ?? pingServer;
  const where = `${o.host}:${o.port}`;
  return async () => {
    try {
      await ping(o.host, o.port, o.timeoutMs, o.pingKind);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'EIO';
      const reason = code === 'ETIMEDOUT' ? 'ServerUnresponsive' : 'ServerUnreachable';
      // The root is verified before its next use, so that controller calls fail fast meanwhile.
      o.shareRoot?.markSuspect('ETIMEDOUT');
      return [{ status: 'STORAGE_UNREACHABLE', reason, message: `NFS server ${where}: ${(err as Error).message}`, code }];
    }
    const root = o.shareRoot;
    if (!root) return [];
    const mounted = await root.mountedPath();
    if (!mounted) return [];
    const issues = await shareStorageCheck(root.pool, mounted, o.timeoutMs)();
    const unreachable = issues.find((i) => i.status === 'STORAGE_UNREACHABLE');
    if (unreachable) root.markSuspect(unreachable.code ?? 'EIO');
    else root.markHealthy();
    return issues.map((i) => ({ ...i, message: `share root ${where}: ${i.message}` }));
  };
}

/** Codes of a broken mount of a live server: a new mount cures them; a silent server's does not. */
const curedByRemount = new Set(['ESTALE', 'ENOTCONN']);

/** Would mounting the share root again cure what the check found? */
export function remountCuresIssue(issues: readonly StorageIssue[]): boolean {
  return issues.some((i) => i.status === 'STORAGE_UNREACHABLE' && i.code !== undefined && curedByRemount.has(i.code));
}
