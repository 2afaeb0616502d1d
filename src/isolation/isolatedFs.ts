import type { FsRequest, FsResult, ProbeItem, TimedProbeResult } from './fsOps';
import type { Lane, PoolSnapshot } from './poolMessages';
import type { CommandResult, RunOptions } from '../mount/runCommand';

/** A request in flight: `result` settles by its deadline at the latest, `gone` when its helper is free or dead. */
export interface TrackedRun<T> {
  result: Promise<T>;
  gone: Promise<void>;
}

/** How a probe round ended: one entry per mount, undefined where no answer came. */
export interface ProbeRoundOutcome {
  results: Array<TimedProbeResult | undefined>;
  /**
   * Why some entries have no answer. An IsolationTimeoutError means the storage did not answer
   * in time; anything else (the isolation layer broke) says nothing about the storage.
   */
  failure?: Error;
}

/** A probe round in flight. */
export interface ProbeRound {
  done: Promise<ProbeRoundOutcome>;
  gone: Promise<void>;
}

/** Whether the isolation layer can run work at all. */
export interface IsolationStatus {
  ok: boolean;
  message: string;
  /** Times the pool thread was restarted after it died or stopped answering. */
  restarts: number;
}

/**
 * The only way the driver touches a path that may sit on unresponsive storage. Every call has
 * a deadline that the caller's side enforces, whatever happens to the helpers or their thread.
 * Backends, the monitor and the node service depend on this interface; tests pass fakes.
 */
export interface IsolatedFs {
  /** Runs one operation in a helper of `lane` (CSI work unless said otherwise). */
  run<R extends FsRequest>(req: R, timeoutMs: number, lane?: Lane): Promise<FsResult<R>>;
  runTracked<R extends FsRequest>(req: R, timeoutMs: number, lane?: Lane): TrackedRun<FsResult<R>>;
  /** Probes many mounts at once in one helper of the probe lane; answers as they come, the rest at the deadline. */
  probeRound(items: ProbeItem[], timeoutMs: number): ProbeRound;
  /** Runs an external command from the pool thread, its process group killed at the deadline. */
  command(cmd: string, args: string[], opts: RunOptions): Promise<CommandResult>;
  status(): IsolationStatus;
  snapshot(): PoolSnapshot;
}
