import type { PartialAnswers } from './fsOps';
import type { PoolEvent, Lane } from './poolMessages';
import type { HelperSpawner } from './startHelperProcess';

export interface HelperProcessPoolOptions {
  lane?: Lane;
  /** Most helpers busy at once; further requests queue. */
  maxHelpers?: number;
  /** Idle helpers kept warm. */
  maxIdle?: number;
  /**
   * How long helpers beyond maxIdle stay warm after a burst of work (ms): a burst that comes back
   * within this time does not pay for starting helpers again.
   */
  idleLingerMs?: number;
  /** Killed helpers that have not exited yet; past this the lane refuses work. */
  maxStuck?: number;
  /** Size of each helper's libuv thread pool: a probe round needs one thread per mount. */
  threadsPerHelper?: number;
  spawn?: HelperSpawner;
  onEvent?: (e: PoolEvent) => void;
}

/** How a request is run: its deadlines, and where partial answers go. */
export interface RunOptions {
  /** Longest the helper may work on it once it has it. */
  timeoutMs: number;
  /** Absolute bound (ms since the epoch) on queueing, helper start and work together. */
  deadlineAt?: number;
  onPartial?: (answers: PartialAnswers) => void;
}
