import type { FsRequest, PartialAnswers } from './fsOps';
import { HelpersExhaustedError, IsolatedFsError, IsolationBrokenError, IsolationTimeoutError } from './isolationErrors';
import { CommandTimeoutError, type CommandResult } from '../mount/runCommand';

/** The two lanes: CSI work and health probes never wait behind each other. */
export type Lane = 'csi' | 'probe';

/** Counters of one lane. */
export interface LaneSnapshot {
  busy: number;
  idle: number;
  stuck: number;
  queued: number;
  killedTotal: number;
}

/** Counters of both lanes, as of the last message from the pool thread. */
export interface PoolSnapshot {
  csi: LaneSnapshot;
  probe: LaneSnapshot;
}

/** Something the pool wants said in the log, or a helper's life that the owner tracks. */
export type PoolEvent =
  | { type: 'killed'; lane: Lane; op: string; path: string; timeoutMs: number }
  | { type: 'error'; lane: Lane; message: string }
  | { type: 'spawned'; lane: Lane; pid: number }
  | { type: 'exited'; lane: Lane; pid: number };

/** Main thread -> pool thread. `deadlineAt` (ms since the epoch) bounds queueing, start and run. */
export type ThreadRequest =
  | { type: 'run'; id: number; lane: Lane; req: FsRequest; timeoutMs: number; deadlineAt: number }
  /** An external command (mount, umount, tar), started by the thread so that no fork lands on the event loop. */
  | { type: 'command'; id: number; cmd: string; args: string[]; timeoutMs: number; env?: Record<string, string>; cwd?: string }
  | { type: 'cancel'; id: number }
  | { type: 'close' };

/** Pool thread -> main thread. */
export type ThreadReply =
  | { type: 'hello' }
  | { type: 'result'; id: number; ok: true; value: unknown; released: boolean; snapshot: PoolSnapshot }
  | { type: 'result'; id: number; ok: false; error: SerializedError; released: boolean; snapshot: PoolSnapshot }
  | { type: 'partial'; id: number; answers: PartialAnswers }
  | { type: 'gone'; id: number; snapshot: PoolSnapshot }
  /** A cancel was carried out (the helper or command killed): the thread is alive, whether or not the helper has exited yet. */
  | { type: 'cancelled'; id: number }
  | { type: 'event'; event: PoolEvent; snapshot: PoolSnapshot }
  | { type: 'closed'; snapshot: PoolSnapshot };

export interface SerializedError {
  name: string;
  message: string;
  op?: string;
  path?: string;
  code?: string;
  timeoutMs?: number;
  stuck?: number;
  why?: IsolationBrokenError['why'];
  command?: string;
  result?: CommandResult;
}

/** Errors cross the thread boundary as plain data and are rebuilt with their class. */
export function serializePoolError(err: unknown): SerializedError {
  if (err instanceof IsolationTimeoutError)
    return { name: err.name, message: err.message, op: err.op, path: err.path, timeoutMs: err.timeoutMs };
  if (err instanceof IsolatedFsError) return { name: err.name, message: err.message, op: err.op, path: err.path, code: err.code };
  if (err instanceof HelpersExhaustedError) return { name: err.name, message: err.message, stuck: err.stuck };
  if (err instanceof IsolationBrokenError) return { name: err.name, message: err.message, op: err.op, why: err.why };
  if (err instanceof CommandTimeoutError) return { name: err.name, message: err.message, command: err.command, timeoutMs: err.timeoutMs };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return { name: 'Error', message: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) };
}

export function rebuildPoolError(e: SerializedError): Error {
  switch (e.name) {
    case 'IsolationTimeoutError':
      return new IsolationTimeoutError(e.op ?? '', e.path ?? '', e.timeoutMs ?? 0);
    case 'IsolatedFsError':
      return new IsolatedFsError(e.op ?? '', e.path ?? '', e.code ?? 'EUNKNOWN', e.message);
    case 'HelpersExhaustedError':
      return new HelpersExhaustedError(e.stuck ?? 0);
    case 'IsolationBrokenError':
      return Object.assign(new IsolationBrokenError(e.op ?? '', e.why ?? 'helper-died', ''), { message: e.message });
    case 'CommandTimeoutError':
      return new CommandTimeoutError(e.command ?? '', e.timeoutMs ?? 0);
    default:
      return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  }
}

export const emptyLane: LaneSnapshot = { busy: 0, idle: 0, stuck: 0, queued: 0, killedTotal: 0 };
