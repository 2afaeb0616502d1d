import type { Logger } from 'pino';
import { CommandFailedError, CommandTimeoutError, runChecked, type CommandRunner, runCommand } from './runCommand';
import { stepDeadlineMs } from './pinnedCommands';
import { findMount, findMountInText, readMountInfoText, readMountTable, type MountEntry, type MountTableReader } from './mountTable';

export type MountOperation = 'mount' | 'bind' | 'umount' | 'umount_force' | 'umount_lazy' | 'umount_dead';

/** Told of every mount command, for metrics. */
export type MountObserver = (op: MountOperation, seconds: number, ok: boolean) => void;

export interface MounterOptions {
  run?: CommandRunner;
  readTable?: MountTableReader;
  /** Deadline of a mount command. */
  mountTimeoutMs?: number;
  /** Deadline of a normal umount before it is escalated to -f and then lazy. */
  umountTimeoutMs?: number;
  observe?: MountObserver;
  logger?: Logger;
}

export interface UnmountOptions {
  /** The health monitor already saw this mount hung, disconnected or stale. */
  knownDead?: boolean;
}

/** The kernel mount operations the node and controller need. */
export interface Mounter {
  /** Bind-mounts `source` at `target`, read-only when asked. */
  bindMount(source: string, target: string, readOnly: boolean): Promise<void>;
  /** `mount -t fsType -o options source target`. */
  mount(fsType: string, source: string, target: string, options: string[]): Promise<void>;
  /**
   * Unmounts every mount stacked at `target`. A normal umount gets a short deadline, then
   * `umount -f`, then a lazy umount: a target whose server is gone never hangs the caller.
   * When the caller already knows the server is gone (`knownDead`), one `umount -f -l` does it.
   */
  unmount(target: string, opts?: UnmountOptions): Promise<void>;
  /** The top-most mount at exactly this path, from the mount table. */
  mountAt(target: string): Promise<MountEntry | undefined>;
  /** The whole mount table. */
  table(): Promise<MountEntry[]>;
}

/** A mount point that stayed mounted through every escalation (still busy after a lazy umount). */
export class UnmountBusyError extends Error {
  constructor(readonly target: string) {
    super(`${target} is still mounted after repeated umount`);
    this.name = 'UnmountBusyError';
  }
}

/** A Mounter that runs util-linux mount/umount with deadlines. */
export class SystemMounter implements Mounter {
  private readonly run: CommandRunner;
  private readonly readTable: MountTableReader;
  private readonly lookup: (target: string) => Promise<MountEntry | undefined>;
  private readonly mountTimeoutMs: number;
  private readonly umountTimeoutMs: number;

  constructor(private readonly opts: MounterOptions = {}) {
    this.run = opts.run ?? runCommand;
    const readTable = opts.readTable;
    this.readTable = readTable ?? readMountTable;
    // The kernel's table is searched as text for one path; a table given instead is searched whole.
    this.lookup = readTable
      ? async (target) => findMount(await readTable(), target)
      : async (target) => findMountInText(await readMountInfoText(), target);
    this.mountTimeoutMs = opts.mountTimeoutMs ?? 60_000;
    this.umountTimeoutMs = opts.umountTimeoutMs ?? 5_000;
  }

  table(): Promise<MountEntry[]> {
    return this.readTable();
  }

  mountAt(target: string): Promise<MountEntry | undefined> {
    return this.lookup(target);
  }

  async bindMount(source: string, target: string, readOnly: boolean): Promise<void> {
    const args = readOnly ? ['--bind', '-o', 'ro', source, target] : ['--bind', source, target];
    await this.timed('bind', () => runChecked(this.run, 'mount', args, { timeoutMs: this.mountTimeoutMs }));
  }

  async mount(fsType: string, source: string, target: string, options: string[]): Promise<void> {
    const args = ['-t', fsType];
    if (options.length > 0) args.push('-o', options.join(','));
    args.push(source, target);
    await this.timed('mount', () => runChecked(this.run, 'mount', args, { timeoutMs: this.mountTimeoutMs }));
  }

  async unmount(target: string, opts: UnmountOptions = {}): Promise<void> {
    // Bind mounts can be stacked by retries; take them all off.
    for (let i = 0; i < 16 && (await this.mountAt(target)); i++) await this.unmountOnce(target, opts.knownDead === true);
    if (await this.mountAt(target)) throw new UnmountBusyError(target);
  }

  private async unmountOnce(target: string, knownDead: boolean): Promise<void> {
    // As in pinnedCommands: no filesystem helper for the steps meant for a dead server, and a
    // mount known dead gets one forced, detaching step (a normal umount would only wait there).
    const steps: Array<[MountOperation, string[]]> = knownDead
      ? [['umount_dead', ['-i', '-f', '-l', target]]]
      : [
          ['umount', [target]],
          ['umount_force', ['-i', '-f', target]],
          ['umount_lazy', ['-i', '-l', target]],
        ];
    let lastErr: unknown;
    for (const [op, args] of steps) {
      try {
        await this.timed(op, () => runChecked(this.run, 'umount', args, { timeoutMs: stepDeadlineMs(op, this.umountTimeoutMs) }));
        return;
      } catch (err) {
        lastErr = err;
        if (!(err instanceof CommandFailedError || err instanceof CommandTimeoutError)) throw err;
        if (!(await this.mountAt(target))) return;
        this.opts.logger?.warn({ target, op, err: (err as Error).message }, 'umount step failed; escalating');
      }
    }
    throw lastErr;
  }

  private async timed<T>(op: MountOperation, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let ok = false;
    try {
      const r = await fn();
      ok = true;
      return r;
    } finally {
      this.opts.observe?.(op, Number(process.hrtime.bigint() - start) / 1e9, ok);
    }
  }
}
