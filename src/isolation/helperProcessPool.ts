import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { FsRequest, FsResult, HelperReply } from './fsOps';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from './isolationErrors';

/** Starts one helper process; tests may pass their own. */
export type HelperSpawner = () => ChildProcess;

/** Something the pool wants said in the log. */
export type PoolEvent = { type: 'killed'; op: string; path: string; timeoutMs: number } | { type: 'error'; message: string };

export interface HelperProcessPoolOptions {
  /** Most helpers busy at once; further requests queue. */
  maxHelpers?: number;
  /** Idle helpers kept warm. */
  maxIdle?: number;
  /**
   * How long helpers beyond maxIdle stay warm after a burst of work (ms): a burst that comes back
   * within this time does not pay for starting helpers again.
   */
  idleLingerMs?: number;
  /** Killed helpers that have not exited yet; past this the pool refuses work. */
  maxStuck?: number;
  spawn?: HelperSpawner;
  onEvent?: (e: PoolEvent) => void;
}

/** A request in flight: `result` settles at the deadline at the latest, `gone` when its helper is free or dead. */
export interface TrackedRun<T> {
  result: Promise<T>;
  gone: Promise<void>;
}

interface Helper {
  child: ChildProcess;
  exited: Promise<void>;
  /** True once the helper said it is ready; false if it exited or did not start in time. */
  ready: Promise<boolean>;
  /** When it last went idle (ms since the epoch). */
  idleSince: number;
}

/** How long a new helper may take to start (Node.js boots slowly on a loaded machine). */
const helperStartMs = 30_000;

interface Waiter {
  start: () => void;
  reject: (err: Error) => void;
}

const defaultHelperScript = path.join(__dirname, 'fsHelperMain.js');

const defaultSpawner: HelperSpawner = () =>
  fork(defaultHelperScript, [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=48'],
    // A helper runs from / so that its cwd never pins a mount that we later unmount.
    cwd: '/',
  });

/** Counters of a pool. */
export interface PoolSnapshot {
  busy: number;
  idle: number;
  stuck: number;
  queued: number;
  killedTotal: number;
}

/**
 * A pool of killable helper processes that perform file operations on paths that may hang
 * (NFS, FUSE). Nothing here blocks the event loop or the libuv thread pool: a helper that
 * overstays its deadline is SIGKILLed (which ends even a process waiting on a hard NFS mount)
 * and counted as stuck until it has really exited.
 */
export class HelperProcessPool {
  private readonly idle: Helper[] = [];
  private readonly queue: Waiter[] = [];
  private busy = 0;
  private stuck = 0;
  private killedTotal = 0;
  private nextId = 1;
  private closed = false;
  private readonly maxHelpers: number;
  private readonly maxIdle: number;
  private readonly maxStuck: number;
  private readonly idleLingerMs: number;
  private readonly spawn: HelperSpawner;
  private reaper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HelperProcessPoolOptions = {}) {
    this.maxHelpers = opts.maxHelpers ?? 16;
    this.maxIdle = opts.maxIdle ?? 2;
    this.maxStuck = opts.maxStuck ?? 64;
    this.idleLingerMs = opts.idleLingerMs ?? 30_000;
    this.spawn = opts.spawn ?? defaultSpawner;
  }

  /** Runs one operation with a hard deadline. */
  run<R extends FsRequest>(req: R, timeoutMs: number): Promise<FsResult<R>> {
    return this.runTracked(req, timeoutMs).result;
  }

  /** Like run(), and also tells when the helper that served the request is gone or free again. */
  runTracked<R extends FsRequest>(req: R, timeoutMs: number): TrackedRun<FsResult<R>> {
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const result = new Promise<FsResult<R>>((resolve, reject) => {
      if (this.closed) {
        markGone();
        reject(new Error('file helper pool is closed'));
        return;
      }
      if (this.stuck >= this.maxStuck) {
        markGone();
        reject(new HelpersExhaustedError(this.stuck));
        return;
      }
      const start = (): void => this.dispatch(req, timeoutMs, resolve as (v: unknown) => void, reject, markGone);
      if (this.busy < this.maxHelpers) {
        this.busy++;
        start();
      } else {
        this.queue.push({ start, reject });
      }
    });
    return { result, gone };
  }

  /** Counters for metrics and /healthz. */
  snapshot(): PoolSnapshot {
    return { busy: this.busy, idle: this.idle.length, stuck: this.stuck, queued: this.queue.length, killedTotal: this.killedTotal };
  }

  /** Stops idle helpers and refuses new work; busy helpers are killed. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reaper);
    for (const w of this.queue.splice(0)) w.reject(new Error('file helper pool is closed'));
    for (const h of this.idle.splice(0)) h.child.kill('SIGKILL');
  }

  /**
   * Sends a request once its helper is ready. The deadline starts then: the time a fresh helper
   * takes to boot (long on a loaded machine) is not the storage's fault.
   */
  private dispatch(req: FsRequest, timeoutMs: number, resolve: (v: unknown) => void, reject: (e: Error) => void, markGone: () => void): void {
    const helper = this.idle.pop() ?? this.startHelper();
    void helper.ready.then((ok) => {
      if (ok) {
        this.send(helper, req, timeoutMs, resolve, reject, markGone);
        return;
      }
      helper.child.kill('SIGKILL');
      this.release();
      markGone();
      reject(new Error(`file helper did not start within ${helperStartMs}ms`));
    });
  }

  private send(helper: Helper, req: FsRequest, timeoutMs: number, resolve: (v: unknown) => void, reject: (e: Error) => void, markGone: () => void): void {
    const id = this.nextId++;
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      helper.child.off('message', onMessage);
      helper.child.off('exit', onExit);
    };
    const onMessage = (msg: HelperReply): void => {
      if (msg.id !== id || settled) return;
      finish();
      this.giveBack(helper);
      markGone();
      if (msg.ok) resolve(msg.result);
      else reject(new IsolatedFsError(req.op, req.path, msg.code, msg.message));
    };
    const onExit = (): void => {
      if (settled) return;
      finish();
      this.release();
      markGone();
      reject(new Error(`file helper exited during ${req.op}`));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      this.stuck++;
      this.killedTotal++;
      helper.child.kill('SIGKILL');
      // Boot a replacement now, so that the next request (often the follow-up check of the
      // same mount) does not wait for a helper to start.
      if (!this.closed && this.idle.length < this.maxIdle) this.idle.push(this.startHelper());
      void helper.exited.then(() => {
        this.stuck--;
        markGone();
      });
      this.release();
      this.opts.onEvent?.({ type: 'killed', op: req.op, path: req.path, timeoutMs });
      reject(new IsolationTimeoutError(req.op, req.path, timeoutMs));
    }, timeoutMs);
    helper.child.on('message', onMessage);
    helper.child.once('exit', onExit);
    helper.child.send({ id, req });
  }

  private startHelper(): Helper {
    const child = this.spawn();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), helperStartMs);
      const onReady = (msg: { ready?: boolean }): void => {
        if (!msg || msg.ready !== true) return;
        clearTimeout(timer);
        child.off('message', onReady);
        resolve(true);
      };
      child.on('message', onReady);
      void exited.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    const helper: Helper = { child, exited, ready, idleSince: Date.now() };
    void exited.then(() => {
      const i = this.idle.indexOf(helper);
      if (i >= 0) this.idle.splice(i, 1);
    });
    child.on('error', (err) => this.opts.onEvent?.({ type: 'error', message: err.message }));
    return helper;
  }

  /** Keeps a free helper warm (the most recently used are reused first, so extras age out). */
  private giveBack(helper: Helper): void {
    if (!this.closed && helper.child.connected && this.idle.length < this.maxHelpers) {
      helper.idleSince = Date.now();
      this.idle.push(helper);
      if (this.idle.length > this.maxIdle) this.scheduleReap();
    } else {
      helper.child.kill('SIGKILL');
    }
    this.release();
  }

  /** Stops helpers beyond maxIdle once they have been idle for idleLingerMs. */
  private scheduleReap(): void {
    if (this.reaper) return;
    this.reaper = setTimeout(() => {
      this.reaper = undefined;
      const now = Date.now();
      // idle is ordered by idleSince: the oldest are first.
      while (this.idle.length > this.maxIdle && now - this.idle[0]!.idleSince >= this.idleLingerMs) this.idle.shift()!.child.kill('SIGKILL');
      if (this.idle.length > this.maxIdle) this.scheduleReap();
    }, Math.max(50, Math.min(this.idleLingerMs, 5000)));
    this.reaper.unref();
  }

  /** Frees a busy slot and starts the next queued request. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.busy--;
  }
}
