import type { Logger } from 'pino';
import { ShareUnavailableError } from './backendErrors';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import { IsolationTimeoutError } from '../isolation/isolationErrors';
import type { MountEntry } from '../mount/mountTable';
import type { Mounter } from '../mount/mounter';
import type { VolumeSource } from './records';

export interface NfsShareMountOptions {
  /** The private mount point (under --state-dir). */
  workDir: string;
  /** How to mount the share root. */
  source: Extract<VolumeSource, { kind: 'nfs' }>;
  mounter: Mounter;
  pool: FsHelperPool;
  logger: Logger;
  /** Deadline of the statfs that verifies a suspect mount, and of mkdir. */
  checkTimeoutMs: number;
  /** A mount seen in the mount table is trusted this long before the table is read again. */
  recheckMs?: number;
  /**
   * Does the server answer (an NFS NULL call)? Asked when the root does not: a wedged mount
   * of a live server is mounted again, a dead server's is not (a new mount would hang too).
   */
  serverAnswers?: () => Promise<boolean>;
  /** Runs after every fresh mount (the share layout). */
  onMounted?: (root: string) => Promise<void>;
  now?: () => number;
}

/** Errors that mean "this mount is broken; a new one may work". */
const staleCodes = new Set(['ESTALE', 'ENOTCONN', 'EIO', 'ETIMEDOUT', 'TIMEOUT']);

/**
 * The controller's private mount of the share root. Mounted on first use, not at start (a
 * server that is down at start must not keep the driver from serving); verified and mounted
 * again when a health check or a caller saw it go stale (ESTALE, ENOTCONN, a timeout). One
 * mount attempt at a time: concurrent callers share it.
 */
export class NfsShareMount {
  private pending: Promise<string> | undefined;
  private suspect: string | undefined;
  private verifiedAt = -Infinity;
  /** The layout is made once per mount (and once after a restart finds the mount). */
  private needsLayout = true;
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(private readonly o: NfsShareMountOptions) {
    this.recheckMs = o.recheckMs ?? 1_000;
    this.now = o.now ?? Date.now;
  }

  get workDir(): string {
    return this.o.workDir;
  }

  /** The share root, mounted (again) if needed. @throws ShareUnavailableError when it cannot be mounted. */
  root(): Promise<string> {
    if (!this.suspect && this.now() - this.verifiedAt < this.recheckMs) return Promise.resolve(this.o.workDir);
    this.pending ??= this.ensure().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * Verifies a suspect root and mounts it again when it is broken, now rather than on the next
   * controller call. The same work as root(), named for what its caller decides.
   * @throws ShareUnavailableError when it cannot be mounted.
   */
  remountIfBroken(): Promise<string> {
    return this.root();
  }

  /** Told by a health check or a failed operation that the root answered `code`. */
  markSuspect(code: string): void {
    if (!staleCodes.has(code)) return;
    if (!this.suspect)
      this.o.logger.warn({ workDir: this.o.workDir, code }, 'share root looks stale; it will be verified and mounted again on next use');
    this.suspect = code;
  }

  /** Told by a health check that the root answered. */
  markHealthy(): void {
    this.suspect = undefined;
  }

  /** The work dir if our mount is in the mount table; never mounts. */
  async mountedPath(): Promise<string | undefined> {
    const entry = await this.o.mounter.mountAt(this.o.workDir);
    return entry && this.isOurs(entry) ? this.o.workDir : undefined;
  }

  /** Unmounts the work mount (escalating to -f and lazy for a dead server). */
  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
    if (await this.o.mounter.mountAt(this.o.workDir)) await this.o.mounter.unmount(this.o.workDir);
  }

  private isOurs(entry: MountEntry): boolean {
    // mount.efs goes through a local TLS proxy: its source is 127.0.0.1:/path, not predictable.
    return this.o.source.fsType === 'efs' || entry.source === this.o.source.device;
  }

  private async ensure(): Promise<string> {
    const { mounter, workDir, logger, source } = this.o;
    const entry = await mounter.mountAt(workDir);
    let usable = false;
    if (entry && this.isOurs(entry)) {
      usable = !this.suspect || (await this.verify());
    } else if (entry) {
      logger.warn({ workDir, found: entry.source, expected: source.device }, 'work dir holds another mount; replacing it');
    }
    if (!usable) {
      try {
        if (entry) await mounter.unmount(workDir);
        await this.o.pool.run({ op: 'mkdir', path: workDir }, this.o.checkTimeoutMs);
        await mounter.mount(source.fsType, source.device, workDir, source.options);
      } catch (err) {
        throw new ShareUnavailableError(`cannot mount the share ${source.device} at ${workDir}: ${(err as Error).message}`);
      }
      logger.info({ workDir, device: source.device }, 'share root mounted');
      this.needsLayout = true;
    }
    this.suspect = undefined;
    if (this.needsLayout) {
      try {
        await this.o.onMounted?.(workDir);
      } catch (err) {
        throw new ShareUnavailableError(`share ${source.device} is mounted, but its layout could not be made: ${(err as Error).message}`);
      }
      this.needsLayout = false;
    }
    return this.verified();
  }

  /**
   * Asks the root of a suspect mount for statfs: true when it answers, false when a new mount may cure
   * it (an error, or a timeout while the server itself answers).
   * @throws ShareUnavailableError when neither the root nor the server answers.
   */
  private async verify(): Promise<boolean> {
    const { workDir, logger } = this.o;
    try {
      // statfs, not stat: the attributes of the root may come from the client's cache.
      await this.o.pool.run({ op: 'statfs', path: workDir }, this.o.checkTimeoutMs);
      return true;
    } catch (err) {
      if (err instanceof IsolationTimeoutError && this.o.serverAnswers && !(await this.o.serverAnswers())) {
        throw new ShareUnavailableError(
          `the share root ${this.o.source.device} does not answer, nor does its server: not mounting it again while the server is down`,
        );
      }
      logger.warn({ workDir, err: (err as Error).message }, 'share root does not answer; mounting it again');
      return false;
    }
  }

  private verified(): string {
    this.verifiedAt = this.now();
    return this.o.workDir;
  }
}
