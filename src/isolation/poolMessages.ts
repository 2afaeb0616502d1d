import type { FsRequest } from './fsOps';
import type { PoolEvent, PoolSnapshot } from './helperProcessPool';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from './isolationErrors';

export type ThreadRequest = { type: 'run'; id: number; req: FsRequest; timeoutMs: number } | { type: 'close' };

export type ThreadReply =
  | { type: 'result'; id: number; ok: true; value: unknown; released: boolean; snapshot: PoolSnapshot }
  | { type: 'result'; id: number; ok: false; error: SerializedError; released: boolean; snapshot: PoolSnapshot }
  | { type: 'gone'; id: number; snapshot: PoolSnapshot }
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
}

/** Errors cross the thread boundary as plain data and are rebuilt with their class. */
export function serializePoolError(err: unknown): SerializedError {
  if (err instanceof IsolationTimeoutError) return { name: err.name, message: err.message, op: err.op, path: err.path, timeoutMs: err.timeoutMs };
  if (err instanceof IsolatedFsError) return { name: err.name, message: err.message, op: err.op, path: err.path, code: err.code };
  if (err instanceof HelpersExhaustedError) return { name: err.name, message: err.message, stuck: err.stuck };
  return { name: 'Error', message: err instanceof Error ? err.message : String(err) };
}

export function rebuildPoolError(e: SerializedError): Error {
  switch (e.name) {
    case 'IsolationTimeoutError':
      return new IsolationTimeoutError(e.op ?? '', e.path ?? '', e.timeoutMs ?? 0);
    case 'IsolatedFsError':
      return new IsolatedFsError(e.op ?? '', e.path ?? '', e.code ?? 'EUNKNOWN', e.message);
    case 'HelpersExhaustedError':
      return new HelpersExhaustedError(e.stuck ?? 0);
    default:
      return new Error(e.message);
  }
}
