import { killHelperGroup } from './killHelperGroup';
import type { Lane, PoolEvent } from './poolMessages';
import { startHelperProcess, type HelperProcess, type HelperSpawner } from './startHelperProcess';

/** How long a new helper may take to start when the caller set no tighter bound. */
export const helperStartMs = 30_000;

/** A request waiting for a ready helper: whichever is ready first, a fresh one or one freed. */
export interface AwaitingHelper {
  take: (helper: HelperProcess) => void;
  fail: (err: Error) => void;
}

export interface HelperRosterOptions {
  lane: Lane;
  spawn: HelperSpawner;
  /** Most idle helpers kept. */
  maxHelpers: number;
  /** Idle helpers kept warm beyond the linger time. */
  maxIdle: number;
  idleLingerMs: number;
  onEvent?: (e: PoolEvent) => void;
}

/**
 * The helpers of one lane that no request holds: ready ones (idle), starting ones, and the
 * requests waiting for one. Starting helpers belong to no request: each goes, once ready, to
 * the request waiting longest, or idle. On a slow machine a fresh helper can take seconds,
 * while a busy one is free again in milliseconds, so a waiting request takes whichever comes
 * first; and a helper whose request gave up goes on starting for the next one.
 */
export class HelperRoster {
  /** Ready helpers with nothing to do, the least recently used first. */
  private readonly idle: HelperProcess[] = [];
  private readonly starting = new Set<HelperProcess>();
  private readonly awaiting: AwaitingHelper[] = [];
  private reaper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: HelperRosterOptions) {}

  /** Helpers alive and free: idle or starting. */
  get warm(): number {
    return this.idle.length + this.starting.size;
  }

  /** The most recently used ready helper, if any. */
  takeReady(): HelperProcess | undefined {
    return this.idle.pop();
  }

  /** Waits for the first helper ready; starts one when fewer are starting than requests waiting. */
  await(waiter: AwaitingHelper): void {
    if (this.starting.size <= this.awaiting.length) this.start();
    this.awaiting.push(waiter);
  }

  /** A waiting request gave up. */
  forget(waiter: AwaitingHelper): void {
    const i = this.awaiting.indexOf(waiter);
    if (i >= 0) this.awaiting.splice(i, 1);
  }

  /** Starts a replacement when fewer than maxIdle helpers are warm. */
  keepWarm(): void {
    if (!this.closed && this.warm < this.opts.maxIdle) this.start();
  }

  /** A ready helper with nothing to do: to the request waiting longest, else kept warm (extras age out). */
  offer(helper: HelperProcess): void {
    if (this.closed || !helper.child.connected) {
      killHelperGroup(helper.child);
      return;
    }
    const waiter = this.awaiting.shift();
    if (waiter) {
      waiter.take(helper);
      return;
    }
    if (this.idle.length >= this.opts.maxHelpers) {
      killHelperGroup(helper.child);
      return;
    }
    helper.idleSince = Date.now();
    this.idle.push(helper);
    if (this.idle.length > this.opts.maxIdle) this.scheduleReap();
  }

  /** Fails whoever waits with `err` and stops every helper held here. */
  close(err: Error): void {
    this.closed = true;
    clearTimeout(this.reaper);
    for (const w of this.awaiting.splice(0)) w.fail(err);
    for (const h of this.idle.splice(0)) killHelperGroup(h.child);
    for (const h of this.starting) killHelperGroup(h.child);
  }

  /** Starts a helper; when ready it is offered. One not ready within helperStartMs is killed. */
  private start(): void {
    const { lane, onEvent } = this.opts;
    const helper = startHelperProcess(this.opts.spawn);
    const { child, exited } = helper;
    const pid = child.pid;
    this.starting.add(helper);
    if (pid !== undefined) onEvent?.({ type: 'spawned', lane, pid });
    const watchdog = setTimeout(() => {
      if (!helper.isReady) killHelperGroup(child);
    }, helperStartMs);
    watchdog.unref();
    void helper.ready.then((ok) => {
      clearTimeout(watchdog);
      this.starting.delete(helper);
      if (ok) this.offer(helper);
    });
    void exited.then(() => {
      this.starting.delete(helper);
      const i = this.idle.indexOf(helper);
      if (i >= 0) this.idle.splice(i, 1);
      if (pid !== undefined) onEvent?.({ type: 'exited', lane, pid });
    });
    child.on('error', (err) => onEvent?.({ type: 'error', lane, message: err.message }));
  }

  /** Stops helpers beyond maxIdle once they have been idle for idleLingerMs. */
  private scheduleReap(): void {
    if (this.reaper) return;
    const { maxIdle, idleLingerMs } = this.opts;
    this.reaper = setTimeout(
      () => {
        this.reaper = undefined;
        const now = Date.now();
        // idle is ordered by idleSince: the oldest are first.
        while (this.idle.length > maxIdle && now - this.idle[0]!.idleSince >= idleLingerMs) killHelperGroup(this.idle.shift()!.child);
        if (this.idle.length > maxIdle) this.scheduleReap();
      },
      Math.max(50, Math.min(idleLingerMs, 5000)),
    );
    this.reaper.unref();
  }
}
