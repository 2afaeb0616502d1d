/**
 * Where the calm-probe thread (probeWorkerMain.ts) leaves a round's answers for the helper's
 * main thread, in memory both share. A message per answer woke the main thread once per mount
 * checked; now it looks at the board on a timer. An
 * answer on the board is there the moment it is written, so nothing is lost or held back when
 * the thread then stalls on a hung mount.
 *
 * Only a passing probe's answer fits (its time and the six statfs numbers); any other answer
 * goes as a message and its slot says so. Per item: one Int32 state, then seven Float64 values.
 */
import type { StatfsResult, TimedProbeResult } from './fsOps';

const empty = 0;
const onBoard = 1;
const sentAsMessage = 2;
const values = 7;
const statfsKeys = ['bsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree'] as const;

export class CalmAnswerBoard {
  private readonly states: Int32Array;
  private readonly numbers: Float64Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly size: number,
  ) {
    const stateBytes = Math.ceil((size * 4) / 8) * 8;
    this.states = new Int32Array(buffer, 0, size);
    this.numbers = new Float64Array(buffer, stateBytes, size * values);
  }

  /** A board for `size` items. */
  static forItems(size: number): CalmAnswerBoard {
    return new CalmAnswerBoard(new SharedArrayBuffer(Math.ceil((size * 4) / 8) * 8 + size * values * 8), size);
  }

  /**
   * Writes a passing probe's answer; false when it does not fit (a failure, or a number past
   * what a double holds exactly) and must go as a message: then call sentAsMessage() after it.
   */
  put(position: number, result: TimedProbeResult): boolean {
    const s = result.statfs;
    if (!result.ok || result.code !== undefined || result.message !== undefined || result.failedStep !== undefined || !s) return false;
    const at = position * values;
    const nums = statfsKeys.map((k) => Number(s[k]));
    if (!nums.every((n, i) => Number.isSafeInteger(n) && String(n) === s[statfsKeys[i]!])) return false;
    this.numbers[at] = result.elapsedMs;
    nums.forEach((n, i) => (this.numbers[at + 1 + i] = n));
    // The store publishes the numbers above to a thread that loads this state.
    Atomics.store(this.states, position, onBoard);
    return true;
  }

  /** The answer at `position` went as a message. */
  sentAsMessage(position: number): void {
    Atomics.store(this.states, position, sentAsMessage);
  }

  /** Whether the thread has finished with `position` (on the board or as a message). */
  finished(position: number): boolean {
    return Atomics.load(this.states, position) !== empty;
  }

  /** The answer at `position` when it is on the board. */
  get(position: number): TimedProbeResult | undefined {
    if (Atomics.load(this.states, position) !== onBoard) return undefined;
    const at = position * values;
    const statfs = {} as StatfsResult;
    statfsKeys.forEach((k, i) => (statfs[k] = String(this.numbers[at + 1 + i])));
    return { ok: true, statfs, elapsedMs: this.numbers[at]!, calm: true };
  }
}
