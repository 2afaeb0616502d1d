import { IsolationTimeoutError } from './isolationErrors';
import { CommandTimeoutError } from '../mount/runCommand';
import { rebuildPoolError, type ThreadReply } from './poolMessages';
import type { PartialAnswers } from './fsOps';

/** A request sent to the pool thread, kept until its result and its release have both come. */
export interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  gone: () => void;
  onPartial?: (answers: PartialAnswers) => void;
  op: string;
  path: string;
  timeoutMs: number;
  /** Result and gone may arrive in either order; the entry lives until both have. */
  settled: boolean;
  /** A command run by the thread itself: its overstay is a CommandTimeoutError. */
  command?: boolean;
  backstop: NodeJS.Timeout;
  wedge?: NodeJS.Timeout;
}

type AnswerReply = Extract<ThreadReply, { type: 'result' | 'gone' }>;

/**
 * The requests in flight on the pool thread, by id. Each is settled once (by the thread's
 * answer, its backstop or the thread's death) and released once its helper is gone.
 */
export class PendingRequests {
  private readonly byId = new Map<number, Pending>();

  get size(): number {
    return this.byId.size;
  }

  add(id: number, p: Pending): void {
    this.byId.set(id, p);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** One answer of a probe round, passed on while the round is still open. */
  partial(id: number, answers: PartialAnswers): void {
    const p = this.byId.get(id);
    if (p && !p.settled) p.onPartial?.(answers);
  }

  /** The thread's result or release of a request; true when the request is released and forgotten. */
  answer(msg: AnswerReply): boolean {
    const p = this.byId.get(msg.id);
    if (!p) return false;
    let released = msg.type === 'gone';
    if (msg.type === 'result') {
      if (!p.settled) {
        p.settled = true;
        if (msg.ok) p.resolve(msg.value);
        else p.reject(rebuildPoolError(msg.error));
      }
      released = msg.released;
    }
    if (!released) return false;
    clearTimeout(p.backstop);
    clearTimeout(p.wedge);
    p.gone();
    this.byId.delete(msg.id);
    return true;
  }

  /**
   * The backstop of a request fired: it is settled with its timeout error now, whatever the
   * thread does. Returns the request, still pending release, or undefined when already released.
   */
  expire(id: number): Pending | undefined {
    const p = this.byId.get(id);
    if (!p) return undefined;
    if (!p.settled) {
      p.settled = true;
      p.reject(
        p.command ? new CommandTimeoutError(`${p.op} ${p.path}`, p.timeoutMs) : new IsolationTimeoutError(p.op, p.path, p.timeoutMs),
      );
    }
    return p;
  }

  /** The thread carried out the cancel of a request: it is alive, though the helper may not have exited yet. */
  cancelled(id: number): void {
    const p = this.byId.get(id);
    if (p) clearTimeout(p.wedge);
  }

  /** Rejects every request not yet settled with the given error, releases all, and forgets them. */
  failAll(error: (p: Pending) => Error): void {
    for (const p of this.byId.values()) {
      clearTimeout(p.backstop);
      clearTimeout(p.wedge);
      if (!p.settled) p.reject(error(p));
      p.gone();
    }
    this.byId.clear();
  }
}
