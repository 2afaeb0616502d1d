/**
 * Calm mounts (those that answered well last time, with no injected delay) are probed one after
 * another with synchronous calls on one thread of the probe helper (probeWorkerMain.ts): a
 * probe then costs a fifth of the CPU it costs with a thread-pool hop per call. Should that
 * thread go quiet for `stallMs` (a mount hangs, as when a whole server dies), the mounts it has
 * not started are handed back at once, to be probed all together on the thread pool. So a hang
 * costs the rest of the round at most `stallMs`, and the hung mount itself stays with the
 * stalled thread until it answers or the helper is killed at the round's deadline.
 *
 * The thread is started once the helper has come through a round alive (a helper whose round
 * hung is killed, and a thread started for it would be CPU thrown away, round after round,
 * during an outage), and used only once it says it is ready: starting a Node thread takes
 * milliseconds here but seconds on a slow or emulated machine, and a round must never wait for
 * it (it would overstay its deadline and report healthy mounts unresponsive). For the same
 * reason a round ends when every mount the thread actually started is answered, not when the
 * thread says it is done.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ProbeItem, TimedProbeResult } from './fsOps';
import type { CalmReply, CalmRoundMessage } from './probeWorkerMain';
import { CalmAnswerBoard } from './calmAnswerBoard';

/** How often the main thread looks at the answer board during a round. */
const boardLookMs = 10;

export interface CalmRun {
  /** Positions (in the items given) this thread did not start: the caller probes them. */
  handedBack: Promise<number[]>;
  /**
   * Settles when every position the thread started has its answer sent; with the positions it
   * started and will never answer (it broke after the rest was handed back): the caller probes
   * those too.
   */
  finished: Promise<number[]>;
}

const workerScript = path.join(__dirname, 'probeWorkerMain.js');

export class CalmProber {
  private worker: Worker | undefined;
  private rounds = 0;
  /** The round the thread is still working on, if any: a new round does not wait for it. */
  private busy = false;
  /** The broken thread is not used again. */
  private broken = false;
  /** The thread has loaded and listens for rounds. */
  private ready = false;
  private onReply: ((r: Exclude<CalmReply, { ready: true }>) => void) | undefined;
  /** Ends the round in hand when the thread breaks: everything it had not answered goes back. */
  private abandon: (() => void) | undefined;

  constructor(private readonly script = workerScript) {}

  /** Whether a round can be handed to the thread now. */
  canTakeRound(): boolean {
    return this.ready && !this.busy && !this.broken;
  }

  /** Starts the thread (once) so that later rounds can use it when it is ready. */
  prepare(): void {
    if (!this.worker && !this.broken) this.start();
  }

  run(items: ProbeItem[], stallMs: number, send: (position: number, r: TimedProbeResult) => void): CalmRun {
    const worker = this.start();
    const round = ++this.rounds;
    const claim = new SharedArrayBuffer(4);
    const counter = new Int32Array(claim);
    const board = CalmAnswerBoard.forItems(items.length);
    this.busy = true;
    let handBack!: (positions: number[]) => void;
    let finish!: (lost: number[]) => void;
    const handedBack = new Promise<number[]>((resolve) => (handBack = resolve));
    const finished = new Promise<number[]>((resolve) => (finish = resolve));
    const answered = new Set<number>();
    /** Positions before this one are finished by the thread (it claims them in order). */
    let cursor = 0;
    let lastProgressAt = Date.now();
    /** How many positions the thread had claimed when the rest was taken from it. */
    let claimed: number | undefined;
    let over = false;
    const answer = (position: number, r: TimedProbeResult): void => {
      answered.add(position);
      lastProgressAt = Date.now();
      send(position, r);
    };
    /** Hands over what the thread has put on the board since the last look. */
    const collect = (): void => {
      while (cursor < items.length && board.finished(cursor)) {
        const r = board.get(cursor);
        // Otherwise its message brings it.
        if (r) answer(cursor, r);
        cursor++;
      }
    };
    const end = (lost: number[] = []): void => {
      over = true;
      clearInterval(watch);
      finish(lost);
    };
    const takeOver = (): void => {
      // Whatever the thread has not claimed yet is the caller's from now on.
      claimed = Math.min(Atomics.exchange(counter, 0, items.length), items.length);
      handBack(Array.from({ length: items.length - claimed }, (_, i) => claimed! + i));
    };
    /** Once the rest is handed back, the round waits only for what the thread started. */
    const endIfAllAnswered = (): void => {
      if (claimed !== undefined && answered.size >= claimed) end();
    };
    const look = (): void => {
      if (over) return;
      collect();
      if (claimed === undefined && Date.now() - lastProgressAt >= stallMs) takeOver();
      endIfAllAnswered();
    };
    // One look per batch of answers the helper sends anyway, and at the stall: no wake-up per mount.
    const watch = setInterval(look, Math.max(1, Math.min(boardLookMs, stallMs)));
    this.abandon = () => {
      if (over) return;
      collect();
      Atomics.store(counter, 0, items.length);
      const unanswered = items.map((_, i) => i).filter((i) => !answered.has(i));
      if (claimed === undefined) {
        handBack(unanswered);
        end();
      } else {
        // The rest was handed back already: what the thread had started goes back now.
        end(unanswered.filter((i) => i < claimed!));
      }
    };
    this.onReply = (reply) => {
      if (reply.round !== round) return;
      if ('done' in reply) {
        // Everything the thread wrote came before this message.
        if (!over) collect();
        this.busy = false;
        this.abandon = undefined;
        handBack([]);
        end();
        return;
      }
      if (over) return;
      answer(reply.position, { ...reply.result, elapsedMs: reply.elapsedMs, calm: true });
      endIfAllAnswered();
    };
    const msg: CalmRoundMessage = { round, items, claim, answers: board.buffer };
    worker.postMessage(msg);
    return { handedBack, finished };
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: 16 } });
    worker.on('message', (r: CalmReply) => {
      if ('ready' in r) this.ready = true;
      else this.onReply?.(r);
    });
    const broke = (): void => {
      // A broken thread: the helper goes on without it (every mount on the thread pool).
      this.broken = true;
      this.abandon?.();
      this.abandon = undefined;
    };
    worker.on('error', broke);
    worker.on('exit', broke);
    // The helper's life is its main thread's: this thread never keeps it running (after the
    // listeners: adding a message listener refs the worker again).
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
