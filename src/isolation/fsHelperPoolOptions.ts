import type { Logger } from 'pino';

export interface HelperTotals {
  started: number;
  killed: number;
}

export interface FsHelperPoolOptions {
  /** CSI lane: most helpers busy at once (further requests queue), idle ones kept warm, killed ones not yet exited before it refuses work. */
  maxHelpers?: number;
  maxIdle?: number;
  maxStuck?: number;
  /** Probe lane: most probe rounds at once (`--health-concurrency`), and its own stuck budget. */
  probeHelpers?: number;
  probeMaxStuck?: number;
  /** Most mounts in one probe round: each helper gets a thread per mount, and a few more. */
  maxRoundSize?: number;
  /** Time allowed beyond a request's own timeout for queueing and helper start. */
  startAllowanceMs?: number;
  /** After a request's deadline has passed, how long the thread may take to confirm the kill before it counts as wedged. */
  wedgedAfterMs?: number;
  logger?: Logger;
  /** The thread's script; tests pass one that misbehaves. */
  threadScript?: string;
  /** First wait before a dead thread is started again; it doubles while the thread keeps dying. */
  restartDelayMs?: number;
}

/**
 * How long the one-at-a-time probe thread of a round may go quiet before the mounts it has not
 * started go to the thread pool: an eighth of the round's timeout, 25 to 250 ms. The round's
 * deadline does not move, so a hang is reported when it was; healthy mounts behind a hung one
 * are answered that much later.
 */
export const calmStallMs = (timeoutMs: number): number => Math.min(250, Math.max(25, Math.floor(timeoutMs / 8)));
