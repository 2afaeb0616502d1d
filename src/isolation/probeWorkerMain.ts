/**
 * A thread of a probe helper that probes calm mounts one after another with synchronous calls
 * (calmProbes.ts). Before each mount it claims the next index from a counter it shares with the
 * helper's main thread; when this thread stalls on a hung mount, the main thread takes every
 * index not yet claimed, so a hang here holds up nobody else. A passing probe's answer goes on
 * the round's answer board (calmAnswerBoard.ts), any other as a message.
 */
import { parentPort } from 'node:worker_threads';
import type { ProbeItem } from './fsOps';
import { probeItem } from './probeItem';
import { syncProbeFs } from './probeFs';
import { freshMountIds } from './mountIdLookup';
import { CalmAnswerBoard } from './calmAnswerBoard';

/** A round as the main thread hands it over. */
export interface CalmRoundMessage {
  round: number;
  items: ProbeItem[];
  /** Int32 index 0: the next index to claim. */
  claim: SharedArrayBuffer;
  /** The round's CalmAnswerBoard. */
  answers: SharedArrayBuffer;
}

/** What this thread sends back: ready once loaded; per round, the answers not on the board, then done. */
export type CalmReply =
  | { ready: true }
  | { round: number; position: number; result: Awaited<ReturnType<typeof probeItem>>; elapsedMs: number }
  | { round: number; done: true };

parentPort?.on('message', (msg: CalmRoundMessage) => {
  void (async () => {
    const claim = new Int32Array(msg.claim);
    const board = new CalmAnswerBoard(msg.answers, msg.items.length);
    const mountIds = freshMountIds();
    for (;;) {
      const position = Atomics.add(claim, 0, 1);
      if (position >= msg.items.length) break;
      const t0 = process.hrtime.bigint();
      const result = await probeItem(msg.items[position]!, mountIds, syncProbeFs);
      const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (board.put(position, { ...result, elapsedMs })) continue;
      const reply: CalmReply = { round: msg.round, position, result, elapsedMs };
      parentPort?.postMessage(reply);
      board.sentAsMessage(position);
    }
    parentPort?.postMessage({ round: msg.round, done: true } satisfies CalmReply);
  })();
});

parentPort?.postMessage({ ready: true } satisfies CalmReply);
