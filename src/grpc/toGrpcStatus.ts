import { status } from '@grpc/grpc-js';
import { CsiError } from './csiError';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from '../isolation/isolationErrors';
import { CommandFailedError, CommandTimeoutError } from '../mount/runCommand';
import { InjectedFaultError } from '../health/faultInjector';
import { NodeStateWriteError } from '../node/nodeStateErrors';

/** The status a client sees for an error; `unexpected` marks our own bugs. */
export interface MappedStatus {
  code: status;
  details: string;
  unexpected: boolean;
}

const unavailableCodes = new Set(['ESTALE', 'ENOTCONN', 'EIO', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH']);

/**
 * Maps any thrown value to a gRPC status, in one place. CsiError keeps its code; the domain
 * errors of storage and commands get the code that tells the CO what to do; anything else is
 * our bug and leaves as INTERNAL "internal error", the stack going to the log only.
 */
export function toGrpcStatus(err: unknown): MappedStatus {
  const known = (code: status, details: string): MappedStatus => ({ code, details, unexpected: false });
  if (err instanceof CsiError) return known(err.code, err.message);
  if (err instanceof IsolationTimeoutError || err instanceof HelpersExhaustedError) return known(status.UNAVAILABLE, err.message);
  if (err instanceof InjectedFaultError) return known(status.UNAVAILABLE, err.message);
  // The mount is made but not yet on disk: the next call (the CO retries) writes it again.
  if (err instanceof NodeStateWriteError) return known(status.UNAVAILABLE, err.message);
  if (err instanceof CommandTimeoutError) return known(status.DEADLINE_EXCEEDED, err.message);
  if (err instanceof CommandFailedError) return known(status.INTERNAL, err.message);
  if (err instanceof IsolatedFsError) {
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return known(status.RESOURCE_EXHAUSTED, `no space left on the share (${err.op})`);
    if (unavailableCodes.has(err.code)) return known(status.UNAVAILABLE, `storage error ${err.code} during ${err.op}`);
    if (err.code === 'EROFS') return known(status.FAILED_PRECONDITION, `the share is read-only (${err.op})`);
    return known(status.INTERNAL, `${err.op} failed: ${err.code}`);
  }
  return { code: status.INTERNAL, details: 'internal error', unexpected: true };
}
