import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FsRequest, FsResult, PartialAnswers, ProbeItem, TimedProbeResult } from './fsOps';
import type { PoolThreadConfig } from './fsPoolThread';
import { IsolationBrokenError } from './isolationErrors';
import type { CommandResult, RunOptions } from '../mount/runCommand';
import { PendingRequests, type Pending } from './pendingRequests';
import type { FsHelperPoolOptions, HelperTotals } from './fsHelperPoolOptions';
import { calmStallMs } from './fsHelperPoolOptions';

export type { FsHelperPoolOptions, HelperTotals } from './fsHelperPoolOptions';
import type { IsolatedFs, IsolationStatus, ProbeRound, TrackedRun } from './isolatedFs';
import { emptyLane, type Lane, type PoolSnapshot, type ThreadReply, type ThreadRequest } from './poolMessages';

const defaultThreadScript = path.join(__dirname, 'fsPoolThread.js');
/** Grace past the absolute deadline for the thread's own answer to arrive. */
const replyGraceMs = 1_000;

/**
 * File operations on paths that may hang (NFS, FUSE), run by killable helper processes with
 * hard deadlines, in two lanes (CSI work and health probes) that never wait for each other.
 * The processes are owned by a worker thread (see fsPoolThread), so neither a hung syscall nor
 * the cost of starting a helper lands on this event loop or on the libuv thread pool.
 *
 * This side owns every deadline: a backstop timer settles each request even if the thread or a
 * helper never answers. The thread is supervised: when it dies or stops answering, every pending
 * request is rejected with IsolationBrokenError, its helpers are killed, and a new thread starts.
 */
export class FsHelperPool implements IsolatedFs {
  private worker: Worker | undefined;
  private readonly pending = new PendingRequests();
  /** Helper processes alive, by pid: killed with their groups if their thread dies. */
  private readonly helpers = new Set<number>();
  /** Helpers started and killed at their deadline, per lane, over every thread this pool ran. */
  private readonly totals: Record<Lane, HelperTotals> = { csi: { started: 0, killed: 0 }, probe: { started: 0, killed: 0 } };
  private nextId = 1;
  private last: PoolSnapshot = { csi: emptyLane, probe: emptyLane };
  private closed = false;
  private up = false;
  private down: string | undefined;
  private restarts = 0;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly config: PoolThreadConfig;
  private readonly startAllowanceMs: number;
  private readonly wedgedAfterMs: number;

  constructor(private readonly opts: FsHelperPoolOptions = {}) {
    const probeHelpers = opts.probeHelpers ?? 4;
    this.config = {
      csi: { maxHelpers: opts.maxHelpers ?? 16, maxIdle: opts.maxIdle ?? 2, maxStuck: opts.maxStuck ?? 64 },
      probe: {
        maxHelpers: probeHelpers,
        // A round needs one helper; two warm cover a kill and its replacement.
        maxIdle: Math.min(2, probeHelpers),
        maxStuck: opts.probeMaxStuck ?? 4 * probeHelpers,
        threadsPerHelper: (opts.maxRoundSize ?? 128) + 4,
      },
    };
    this.startAllowanceMs = opts.startAllowanceMs ?? 5_000;
    this.wedgedAfterMs = opts.wedgedAfterMs ?? 10_000;
    this.backoffMs = opts.restartDelayMs ?? 100;
    this.startThread();
  }

  run<R extends FsRequest>(req: R, timeoutMs: number, lane: Lane = 'csi'): Promise<FsResult<R>> {
    return this.runTracked(req, timeoutMs, lane).result;
  }

  runTracked<R extends FsRequest>(req: R, timeoutMs: number, lane: Lane = 'csi'): TrackedRun<FsResult<R>> {
    const run = this.submit(req, timeoutMs, lane);
    return { result: run.result as Promise<FsResult<R>>, gone: run.gone };
  }

  /**
   * Runs an external command from the pool thread (a fork blocks its thread for milliseconds,
   * more under load: never the event loop's), in its own process group killed at the deadline.
   */
  command(cmd: string, args: string[], opts: RunOptions): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      const w = this.worker;
      if (this.closed || !w) {
        reject(this.refusal(cmd));
        return;
      }
      const id = this.nextId++;
      const backstop = setTimeout(() => this.onBackstop(id), opts.timeoutMs + this.startAllowanceMs + replyGraceMs);
      const entry: Pending = {
        resolve: resolve as (v: unknown) => void,
        reject,
        gone: () => undefined,
        op: cmd,
        path: args.join(' '),
        timeoutMs: opts.timeoutMs,
        settled: false,
        backstop,
        command: true,
      };
      this.pending.add(id, entry);
      const env = opts.env
        ? Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : undefined;
      const msg: ThreadRequest = {
        type: 'command',
        id,
        cmd,
        args,
        timeoutMs: opts.timeoutMs,
        ...(env ? { env } : {}),
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      };
      w.ref();
      w.postMessage(msg);
    });
  }

  probeRound(items: ProbeItem[], timeoutMs: number): ProbeRound {
    const results: Array<TimedProbeResult | undefined> = items.map(() => undefined);
    const stallMs = calmStallMs(timeoutMs);
    const run = this.submit({ op: 'probeMany', path: `${items.length} mounts`, items, stallMs }, timeoutMs, 'probe', (answers) => {
      for (const [index, value] of answers) if (index >= 0 && index < results.length) results[index] = value as TimedProbeResult;
    });
    const done = run.result.then(
      () => ({ results }),
      (err: Error) => ({ results, failure: err }),
    );
    return { done, gone: run.gone };
  }

  status(): IsolationStatus {
    if (this.closed) return { ok: false, message: 'file helper pool is closed', restarts: this.restarts };
    if (this.down) return { ok: false, message: `file helper thread is down (${this.down}); restarting`, restarts: this.restarts };
    return { ok: true, message: this.up ? 'file helpers are available' : 'file helper thread is starting', restarts: this.restarts };
  }

  /** Pids of the helper processes alive now (for diagnostics and tests). */
  helperPids(): number[] {
    return [...this.helpers];
  }

  /** Helpers started and killed at their deadline since the pool was made (churn says storage hangs). */
  helperTotals(): Record<Lane, HelperTotals> {
    return { csi: { ...this.totals.csi }, probe: { ...this.totals.probe } };
  }

  /** Counters as of the last message from the pool thread. */
  snapshot(): PoolSnapshot {
    return this.last;
  }

  /** Refuses new work, stops the helpers and the thread. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.pending.failAll((p) => new IsolationBrokenError(p.op, 'closed', 'the file helper pool is closed'));
    const w = this.worker;
    if (!w) return;
    const msg: ThreadRequest = { type: 'close' };
    w.postMessage(msg);
    setTimeout(() => {
      void w.terminate();
      this.killHelpers();
    }, 200).unref();
  }

  private submit(req: FsRequest, timeoutMs: number, lane: Lane, onPartial?: (answers: PartialAnswers) => void): TrackedRun<unknown> {
    let gone!: () => void;
    const gonePromise = new Promise<void>((resolve) => (gone = resolve));
    const result = new Promise<unknown>((resolve, reject) => {
      const w = this.worker;
      if (this.closed || !w) {
        gone();
        reject(this.refusal(req.op));
        return;
      }
      const id = this.nextId++;
      const deadlineAt = Date.now() + timeoutMs + this.startAllowanceMs;
      const backstop = setTimeout(() => this.onBackstop(id), deadlineAt - Date.now() + replyGraceMs);
      const entry: Pending = { resolve, reject, gone, op: req.op, path: req.path, timeoutMs, settled: false, backstop };
      if (onPartial) entry.onPartial = onPartial;
      this.pending.add(id, entry);
      const msg: ThreadRequest = { type: 'run', id, lane, req, timeoutMs, deadlineAt };
      w.ref();
      w.postMessage(msg);
    });
    return { result, gone: gonePromise };
  }

  /** The thread did not settle a request by its deadline: settle it here, ask for the kill, and watch for a wedged thread. */
  private onBackstop(id: number): void {
    const p = this.pending.expire(id);
    if (!p) return;
    const msg: ThreadRequest = { type: 'cancel', id };
    this.worker?.postMessage(msg);
    p.wedge = setTimeout(() => {
      if (this.pending.has(id)) this.restartThread(`it did not acknowledge the cancel of ${p.op} ${p.path} within ${this.wedgedAfterMs}ms`);
    }, this.wedgedAfterMs);
    p.wedge.unref();
  }

  private startThread(): void {
    const w = new Worker(this.opts.threadScript ?? defaultThreadScript, { workerData: this.config });
    this.worker = w;
    this.up = false;
    w.on('message', (msg: ThreadReply) => {
      if (this.worker === w) this.onReply(msg);
    });
    w.on('error', (err) => this.onThreadDeath(w, `error: ${err.message}`));
    w.on('exit', (code) => this.onThreadDeath(w, `exited with code ${code}`));
    // Idle, the pool must not keep the process alive.
    w.unref();
  }

  /** Terminates a thread that stopped answering; its exit brings a new one. */
  private restartThread(why: string): void {
    const w = this.worker;
    if (!w) return;
    this.onThreadDeath(w, why);
    void w.terminate();
  }

  private onThreadDeath(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.up = false;
    if (this.closed) return;
    this.down = why;
    this.opts.logger?.error({ why }, 'file helper thread died; failing its requests and restarting it');
    this.pending.failAll((p) => new IsolationBrokenError(p.op, 'thread-died', `the file helper thread died (${why})`));
    // Killed, they stay zombies until the process ends: their thread, which would reap them, is gone.
    this.killHelpers();
    this.last = { csi: emptyLane, probe: emptyLane };
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.startThread();
    }, this.backoffMs);
    this.restartTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
  }

  /** Why a request cannot be sent now: the pool is closed or its thread is down. */
  private refusal(op: string): IsolationBrokenError {
    return this.closed
      ? new IsolationBrokenError(op, 'closed', 'the file helper pool is closed')
      : new IsolationBrokenError(op, 'thread-died', `the file helper thread is down (${this.down ?? 'starting'})`);
  }

  /** Kills the helpers of a thread that is gone (they were its children; their groups die with them). */
  private killHelpers(): void {
    for (const pid of this.helpers) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.helpers.clear();
  }

  private onReply(msg: ThreadReply): void {
    if (msg.type === 'hello') {
      this.up = true;
      if (this.down) this.opts.logger?.warn({ restarts: this.restarts }, 'file helper thread is back');
      this.down = undefined;
      // Back to a short wait only after it ran for a while (a thread that dies at once keeps backing off).
      setTimeout(() => {
        if (this.up) this.backoffMs = this.opts.restartDelayMs ?? 100;
      }, 30_000).unref();
      return;
    }
    if (msg.type === 'partial') {
      this.pending.partial(msg.id, msg.answers);
      return;
    }
    if (msg.type === 'cancelled') {
      this.pending.cancelled(msg.id);
      return;
    }
    this.last = msg.snapshot;
    if (msg.type === 'event') {
      const e = msg.event;
      if (e.type === 'spawned') {
        this.helpers.add(e.pid);
        this.totals[e.lane].started++;
      } else if (e.type === 'exited') this.helpers.delete(e.pid);
      else if (e.type === 'killed') {
        this.totals[e.lane].killed++;
        this.opts.logger?.warn(e, 'file helper overstayed its deadline; killed');
      } else this.opts.logger?.error({ lane: e.lane, err: e.message }, 'file helper error');
      return;
    }
    if (msg.type === 'closed') return;
    if (this.pending.answer(msg) && this.pending.size === 0) this.worker?.unref();
  }
}
