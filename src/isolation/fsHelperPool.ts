import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FsRequest, FsResult } from './fsOps';
import type { PoolSnapshot } from './helperProcessPool';
import { rebuildPoolError, type ThreadReply, type ThreadRequest } from './poolMessages';

export interface FsHelperPoolOptions {
  /** Most helpers busy at once; further requests queue. */
  maxHelpers?: number;
  /** Idle helpers kept warm. */
  maxIdle?: number;
  /** Killed helpers that have not exited yet; past this the pool refuses work. */
  maxStuck?: number;
  logger?: Logger;
}

/** A request in flight: `result` settles at the deadline at the latest, `gone` when its helper is free or dead. */
export interface TrackedRun<T> {
  result: Promise<T>;
  gone: Promise<void>;
}

/** What callers need of a pool: tests substitute their own. */
export type FileRunner = Pick<FsHelperPool, 'run' | 'runTracked'>;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  gone: () => void;
  /** Result and gone may arrive in either order; the entry lives until both have. */
  settled: boolean;
  released: boolean;
}

/**
 * File operations on paths that may hang (NFS, FUSE), run by killable helper processes with
 * hard deadlines. The processes are owned by a worker thread (see fsPoolThread), so neither a
 * hung syscall nor the cost of starting a replacement helper ever lands on this event loop
 * or on the libuv thread pool.
 */
export class FsHelperPool {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private last: PoolSnapshot = { busy: 0, idle: 0, stuck: 0, queued: 0, killedTotal: 0 };
  private closed = false;

  constructor(private readonly opts: FsHelperPoolOptions = {}) {
    const { logger: _logger, ...poolOpts } = opts;
    this.worker = new Worker(path.join(__dirname, 'fsPoolThread.js'), { workerData: poolOpts });
    this.worker.on('message', (msg: ThreadReply) => this.onReply(msg));
    this.worker.on('error', (err) => {
      opts.logger?.error({ err }, 'file helper thread failed');
      for (const p of this.pending.values()) {
        p.reject(new Error('file helper thread failed'));
        p.gone();
      }
      this.pending.clear();
    });
    // Idle, the pool must not keep the process alive.
    this.worker.unref();
  }

  /** Runs one operation with a hard deadline. */
  run<R extends FsRequest>(req: R, timeoutMs: number): Promise<FsResult<R>> {
    return this.runTracked(req, timeoutMs).result;
  }

  /** Like run(), and also tells when the helper that served the request is gone or free again. */
  runTracked<R extends FsRequest>(req: R, timeoutMs: number): TrackedRun<FsResult<R>> {
    let gone!: () => void;
    const gonePromise = new Promise<void>((resolve) => (gone = resolve));
    const result = new Promise<FsResult<R>>((resolve, reject) => {
      if (this.closed) {
        gone();
        reject(new Error('file helper pool is closed'));
        return;
      }
      const id = this.nextId++;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, gone, settled: false, released: false });
      const msg: ThreadRequest = { type: 'run', id, req, timeoutMs };
      this.worker.ref();
      this.worker.postMessage(msg);
    });
    return { result, gone: gonePromise };
  }

  /** Counters as of the last message from the pool thread. */
  snapshot(): PoolSnapshot {
    return this.last;
  }

  /** Refuses new work, stops the helpers and the thread. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const msg: ThreadRequest = { type: 'close' };
    this.worker.postMessage(msg);
    setTimeout(() => void this.worker.terminate(), 200).unref();
  }

  private onReply(msg: ThreadReply): void {
    this.last = msg.snapshot;
    if (msg.type === 'event') {
      if (msg.event.type === 'killed') this.opts.logger?.warn(msg.event, 'file helper overstayed its deadline; killed');
      else this.opts.logger?.error({ err: msg.event.message }, 'file helper error');
      return;
    }
    if (msg.type === 'closed') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'result') {
      p.settled = true;
      if (msg.ok) p.resolve(msg.value);
      else p.reject(rebuildPoolError(msg.error));
      if (msg.released) {
        p.released = true;
        p.gone();
      }
    } else {
      p.released = true;
      p.gone();
    }
    if (p.settled && p.released) {
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
    }
  }
}
