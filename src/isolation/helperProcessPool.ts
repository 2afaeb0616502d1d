import type { FsRequest, HelperReply } from './fsOps';
import type { HelperProcessPoolOptions, RunOptions } from './helperProcessPoolOptions';
import type { TrackedRun } from './isolatedFs';
import { HelpersExhaustedError, IsolatedFsError, IsolationBrokenError, IsolationTimeoutError } from './isolationErrors';
import { killHelperGroup } from './killHelperGroup';
import type { Lane, LaneSnapshot } from './poolMessages';
import { forkHelperSpawner, type HelperProcess } from './startHelperProcess';
import { HelperRoster, helperStartMs, type AwaitingHelper } from './helperRoster';

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
 * The helpers no request holds are the roster's (helperRoster.ts).
 */
export class HelperProcessPool {
  private readonly roster: HelperRoster;
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
  private readonly maxStuck: number;

  constructor(private readonly opts: HelperProcessPoolOptions = {}) {
    this.lane = opts.lane ?? 'csi';
    this.maxHelpers = opts.maxHelpers ?? 16;
    this.maxStuck = opts.maxStuck ?? 64;
    this.roster = new HelperRoster({
      lane: this.lane,
      spawn: opts.spawn ?? forkHelperSpawner(opts.threadsPerHelper ?? 4),
      maxHelpers: this.maxHelpers,
      maxIdle: opts.maxIdle ?? 2,
      idleLingerMs: opts.idleLingerMs ?? 30_000,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
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
      idle: this.roster.warm,
      stuck: this.stuck,
      queued: this.queue.length,
      killedTotal: this.killedTotal,
    };
  }

  /** Refuses new work, rejects what is queued and stops the idle helpers; running ones finish or meet their deadline. */
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      w.markGone();
      w.reject(new IsolationBrokenError('queued', 'closed', 'the file helper pool is closed'));
    }
    this.roster.close(new IsolationBrokenError('queued', 'closed', 'the file helper pool is closed'));
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
    const ready = this.roster.takeReady();
    if (ready) {
      send(ready);
      return;
    }
    const startBound = Math.max(0, Math.min(helperStartMs, (opts.deadlineAt ?? Infinity) - Date.now()));
    const waiter: AwaitingHelper = {
      take: (helper) => {
        clearTimeout(startTimer);
        send(helper);
      },
      fail: (err) => {
        clearTimeout(startTimer);
        this.roster.forget(waiter);
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
    this.roster.await(waiter);
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
      this.roster.keepWarm();
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

  private giveBack(helper: HelperProcess): void {
    this.roster.offer(helper);
    this.release();
  }

  /** Frees a busy slot and starts the next queued request. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.busy--;
  }
}
