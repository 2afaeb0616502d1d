import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';

/**
 * A stand-in for a helper process, under the test's control: it says it is ready, records what
 * it is sent, answers only when told, and exits only when told (so "killed but not yet exited"
 * lasts exactly as long as the test wants).
 */
export class FakeHelper extends EventEmitter {
  readonly sent: Array<{ id: number; req: { op: string; path: string } }> = [];
  connected = true;
  killed = false;
  exitCode: number | null = null;
  readonly pid = undefined;

  /** With `startsReady` false it says it is ready only when told (a slow start). */
  constructor(startsReady = true) {
    super();
    if (startsReady) setImmediate(() => this.becomeReady());
  }

  becomeReady(): void {
    this.emit('message', { ready: true });
  }

  send(msg: { id: number; req: { op: string; path: string } }): boolean {
    this.sent.push(msg);
    return true;
  }

  /** Answers the last request it was sent. */
  answer(result: unknown = {}): void {
    const last = this.sent[this.sent.length - 1];
    if (last) this.emit('message', { id: last.id, ok: true, result });
  }

  kill(): boolean {
    this.killed = true;
    return true;
  }

  exit(): void {
    this.connected = false;
    this.exitCode = 0;
    this.emit('exit', 0, null);
  }

  asChild(): ChildProcess {
    return this as unknown as ChildProcess;
  }
}

/** Resolves once `check` holds, polling; rejects after `boundMs` (a generous outer bound, not a timing claim). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, boundMs = 30_000): Promise<void> {
  const until = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not so within ${boundMs}ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
