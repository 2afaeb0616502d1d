import type { FsRequest, HelperReply } from './fsOps';
import type { HelperProcessPoolOptions, RunOptions } from './helperProcessPoolOptions';
import type { TrackedRun } from './isolatedFs';
import { HelpersExhaustedError, IsolatedFsError, IsolationBrokenError, IsolationTimeoutError } from './isolationErrors';
import { killHelperGroup } from './killHelperGroup';
import type { Lane, LaneSnapshot } from './poolMessages';
import { forkHelperSpawner, startHelperProcess, type HelperProcess, type HelperSpawner } from './startHelperProcess';

/** How long a new helper may take to start when the caller set no tighter bound. */
const helperStartMs = 30_000;

interface Waiter {
  id: number;
  req: FsRequest;
  timeoutMs: number;
  start: () => void;
  reject: (err: Error) => void;
  markGone: () => void;
}

/**
 * A pool of killable helper processes that perform file operations on paths that may hang
 * (NFS, FUSE): one lane of the isolation layer. Nothing here blocks the event loop or the libuv
 * thread pool: a helper that overstays its deadline is SIGKILLed with its process group (which
 * ends even a process waiting on a hard NFS mount) and counted as stuck until it has exited.
 */
/** A request waiting for a ready helper: whichever is ready first, a fresh one or one freed. */
interface AwaitingHelper {
  take: (helper: HelperProcess) => void;
  fail: (err: Error) => void;
}

export class HelperProcessPool {
  /** Ready helpers with nothing to do, the least recently used first. */
  private readonly idle: HelperProcess[] = [];
  /** Helpers still starting; no request owns them: each goes to whoever waits when it is ready. */
  private readonly starting = new Set<HelperProcess>();
  private readonly awaiting: AwaitingHelper[] = [];
  private readonly queue: Waiter[] = [];
  /** Cancels of requests in flight, by the owner's id. */
  private readonly cancels = new Map<number, () => void>();
  private busy = 0;
  private stuck = 0;
  private killedTotal = 0;
  private nextId = 1;
  private closed = false;
  private readonly lane: Lane;
  private readonly maxHelpers: number;
  private readonly maxIdle: number;
  private readonly maxStuck: number;
  private readonly idleLingerMs: number;
  private readonly spawn: HelperSpawner;
  private reaper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HelperProcessPoolOptions = {}) {
    this.lane = opts.lane ?? 'csi';
    this.maxHelpers = opts.maxHelpers ?? 16;
    this.maxIdle = opts.maxIdle ?? 2;
    this.maxStuck = opts.maxStuck ?? 64;
    this.idleLingerMs = opts.idleLingerMs ?? 30_000;
    this.spawn = opts.spawn ?? forkHelperSpawner(opts.threadsPerHelper ?? 4);
  }

  /** Runs one operation with a hard deadline. */
  run<R extends FsRequest>(req: R, timeoutMs: number): Promise<unknown> {
    return this.runTracked(req, { timeoutMs }).result;
  }

  /**
   * Like run(), and also tells when the helper that served the request is gone or free again.
   * `id` names the request for cancel().
   */
  runTracked(req: FsRequest, opts: RunOptions, id = -this.nextId++): TrackedRun<unknown> {
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.closed) {
        markGone();
        reject(new IsolationBrokenError(req.op, 'closed', 'the file helper pool is closed'));
        return;
      }
      if (this.stuck >= this.maxStuck) {
        markGone();
        reject(new HelpersExhaustedError(this.stuck));
        return;
      }
      const start = (): void => this.dispatch(id, req, opts, resolve, reject, markGone);
      if (this.busy < this.maxHelpers) {
        this.busy++;
        start();
      } else {
        this.queue.push({ id, req, timeoutMs: opts.timeoutMs, start, reject, markGone });
      }
    });
    return { result, gone };
  }

  /** Gives up on a request: dropped if still queued, its helper killed if running. */
  cancel(id: number): void {
    const i = this.queue.findIndex((w) => w.id === id);
    if (i >= 0) {
      const [w] = this.queue.splice(i, 1);
      if (w) {
        w.markGone();
        w.reject(new IsolationTimeoutError(w.req.op, w.req.path, w.timeoutMs));
      }
      return;
    }
    this.cancels.get(id)?.();
  }

  /** Counters for metrics and /healthz. */
  snapshot(): LaneSnapshot {
    return {
      busy: this.busy,
      idle: this.idle.length + this.starting.size,
      stuck: this.stuck,
      queued: this.queue.length,
      killedTotal: this.killedTotal,
    };
  }

  /** Refuses new work, rejects what is queued and stops the idle helpers; running ones finish or meet their deadline. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reaper);
    for (const w of this.queue.splice(0)) {
      w.markGone();
      w.reject(new IsolationBrokenError('queued', 'closed', 'the file helper pool is closed'));
    }
    for (const w of this.awaiting.splice(0)) w.fail(new IsolationBrokenError('queued', 'closed', 'the file helper pool is closed'));
    for (const h of this.idle.splice(0)) killHelperGroup(h.child);
    for (const h of this.starting) killHelperGroup(h.child);
  }

  /**
   * Sends a request to a ready helper: an idle one, else the first to be ready of those
   * starting (one is started for it when there are fewer starting than requests waiting) and
   * those freed by other requests meanwhile. A request is never tied to a helper that is still
   * starting: on a slow machine a fresh helper can take seconds, while a busy one is free again
   * in milliseconds. The helper's deadline starts when it gets the request: the time a helper
   * takes to boot is not the storage's fault; the caller's absolute deadline still bounds the whole.
   */
  private dispatch(
    id: number,
    req: FsRequest,
    opts: RunOptions,
    resolve: (v: unknown) => void,
    reject: (e: Error) => void,
    markGone: () => void,
  ): void {
    if (opts.deadlineAt !== undefined && Date.now() >= opts.deadlineAt) {
      // Waited in the queue until its time was up: the storage was never asked.
      this.release();
      markGone();
      reject(new IsolationTimeoutError(req.op, req.path, opts.timeoutMs));
      return;
    }
    const send = (helper: HelperProcess): void => {
      const left = opts.deadlineAt === undefined ? opts.timeoutMs : Math.min(opts.timeoutMs, opts.deadlineAt - Date.now());
      this.send(id, helper, req, Math.max(1, left), opts, resolve, reject, markGone);
    };
    const ready = this.idle.pop();
    if (ready) {
      send(ready);
      return;
    }
    if (this.starting.size <= this.awaiting.length) this.startHelper();
    const startBound = Math.max(0, Math.min(helperStartMs, (opts.deadlineAt ?? Infinity) - Date.now()));
    const waiter: AwaitingHelper = {
      take: (helper) => {
        clearTimeout(startTimer);
        send(helper);
      },
      fail: (err) => {
        clearTimeout(startTimer);
        const i = this.awaiting.indexOf(waiter);
        if (i >= 0) this.awaiting.splice(i, 1);
        this.cancels.delete(id);
        this.release();
        markGone();
        reject(err);
      },
    };
    // The helper started for it goes on starting if the request gives up: the next one takes it.
    const startTimer = setTimeout(
      () => waiter.fail(new IsolationBrokenError(req.op, 'helper-start', `no file helper was ready within ${startBound}ms`)),
      startBound,
    );
    this.cancels.set(id, () => waiter.fail(new IsolationTimeoutError(req.op, req.path, opts.timeoutMs)));
    this.awaiting.push(waiter);
  }

  private send(
    id: number,
    helper: HelperProcess,
    req: FsRequest,
    timeoutMs: number,
    opts: RunOptions,
    resolve: (v: unknown) => void,
    reject: (e: Error) => void,
    markGone: () => void,
  ): void {
    const wireId = this.nextId++;
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      this.cancels.delete(id);
      helper.child.off('message', onMessage);
      helper.child.off('exit', onExit);
    };
    const onMessage = (msg: HelperReply): void => {
      if (msg.id !== wireId || settled) return;
      if ('partial' in msg) {
        opts.onPartial?.(msg.answers);
        return;
      }
      finish();
      this.giveBack(helper);
      markGone();
      if (msg.ok) resolve(msg.result);
      else reject(new IsolatedFsError(msg.op ?? req.op, msg.path ?? req.path, msg.code, msg.message));
    };
    const onExit = (): void => {
      if (settled) return;
      finish();
      this.release();
      markGone();
      reject(new IsolationBrokenError(req.op, 'helper-died', `the file helper exited during ${req.op} ${req.path}`));
    };
    const kill = (): void => {
      if (settled) return;
      finish();
      this.stuck++;
      this.killedTotal++;
      killHelperGroup(helper.child);
      // Boot a replacement now, so that the next request (often the follow-up check of the
      // same mount) does not wait for a helper to start.
      if (!this.closed && this.idle.length + this.starting.size < this.maxIdle) this.startHelper();
      void helper.exited.then(() => {
        this.stuck--;
        markGone();
      });
      this.release();
      this.opts.onEvent?.({ type: 'killed', lane: this.lane, op: req.op, path: req.path, timeoutMs });
      reject(new IsolationTimeoutError(req.op, req.path, timeoutMs));
    };
    const timer = setTimeout(kill, timeoutMs);
    this.cancels.set(id, kill);
    helper.child.on('message', onMessage);
    helper.child.once('exit', onExit);
    helper.child.send({ id: wireId, req });
  }

  /** Starts a helper; when ready it goes to whoever waits, or idle. One not ready within helperStartMs is killed. */
  private startHelper(): void {
    const helper = startHelperProcess(this.spawn);
    const { child, exited } = helper;
    const pid = child.pid;
    this.starting.add(helper);
    if (pid !== undefined) this.opts.onEvent?.({ type: 'spawned', lane: this.lane, pid });
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
      if (pid !== undefined) this.opts.onEvent?.({ type: 'exited', lane: this.lane, pid });
    });
    child.on('error', (err) => this.opts.onEvent?.({ type: 'error', lane: this.lane, message: err.message }));
  }

  /** A ready helper with nothing to do: to the request waiting longest, else kept warm (the most recently used are reused first, so extras age out). */
  private offer(helper: HelperProcess): void {
    if (this.closed || !helper.child.connected) {
      killHelperGroup(helper.child);
      return;
    }
    const waiter = this.awaiting.shift();
    if (waiter) {
      waiter.take(helper);
      return;
    }
    if (this.idle.length >= this.maxHelpers) {
      killHelperGroup(helper.child);
      return;
    }
    helper.idleSince = Date.now();
    this.idle.push(helper);
    if (this.idle.length > this.maxIdle) this.scheduleReap();
  }

  private giveBack(helper: HelperProcess): void {
    this.offer(helper);
    this.release();
  }

  /** Stops helpers beyond maxIdle once they have been idle for idleLingerMs. */
  private scheduleReap(): void {
    if (this.reaper) return;
    this.reaper = setTimeout(
      () => {
        this.reaper = undefined;
        const now = Date.now();
        // idle is ordered by idleSince: the oldest are first.
        while (this.idle.length > this.maxIdle && now - this.idle[0]!.idleSince >= this.idleLingerMs)
          killHelperGroup(this.idle.shift()!.child);
        if (this.idle.length > this.maxIdle) this.scheduleReap();
      },
      Math.max(50, Math.min(this.idleLingerMs, 5000)),
    );
    this.reaper.unref();
  }

  /** Frees a busy slot and starts the next queued request. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.busy--;
  }
}
