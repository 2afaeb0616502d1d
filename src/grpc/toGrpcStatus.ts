import { status } from '@grpc/grpc-js';
import { CsiError } from './csiError';
import { HelpersExhaustedError, IsolatedFsError, IsolationBrokenError, IsolationTimeoutError } from '../isolation/isolationErrors';
import { UnmountBusyError } from '../mount/mounter';
import { CommandFailedError, CommandTimeoutError } from '../mount/runCommand';
import { InjectedFaultError } from '../health/faultInjector';
import { ShareFullError, VolumeContentChangedError } from '../backend/shareErrors';
import { RecordCorruptError } from '../backend/recordErrors';
import {
  InvalidIdentifierError,
  InvalidParameterError,
  MountPlanError,
  MountUnsupportedError,
  NoShareMountError,
  ShareUnavailableError,
} from '../backend/backendErrors';
import { MountOptionError } from '../backend/nfsMountOptions';
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
  // Unusable metadata is neither our bug nor a passing failure: DATA_LOSS, with what is wrong.
  if (err instanceof RecordCorruptError) return known(status.DATA_LOSS, err.message);
  if (
    err instanceof InvalidIdentifierError ||
    err instanceof InvalidParameterError ||
    err instanceof MountPlanError ||
    err instanceof MountOptionError
  )
    return known(status.INVALID_ARGUMENT, err.message);
  if (err instanceof MountUnsupportedError || err instanceof NoShareMountError) return known(status.FAILED_PRECONDITION, err.message);
  if (err instanceof ShareUnavailableError) return known(status.UNAVAILABLE, err.message);
  if (err instanceof IsolationTimeoutError || err instanceof HelpersExhaustedError) return known(status.UNAVAILABLE, err.message);
  // The driver could not run the operation at all; the CO retries, by then the helpers are back.
  if (err instanceof IsolationBrokenError) return known(status.UNAVAILABLE, err.message);
  // Still mounted after umount -f and a lazy umount: something holds it; a retry may succeed.
  if (err instanceof UnmountBusyError) return known(status.FAILED_PRECONDITION, err.message);
  if (err instanceof InjectedFaultError) return known(status.UNAVAILABLE, err.message);
  // The mount is made but not yet on disk: the next call (the CO retries) writes it again.
  if (err instanceof NodeStateWriteError) return known(status.UNAVAILABLE, err.message);
  if (err instanceof CommandTimeoutError) return known(status.DEADLINE_EXCEEDED, err.message);
  if (err instanceof CommandFailedError) return known(status.INTERNAL, err.message);
  if (err instanceof ShareFullError) return known(status.RESOURCE_EXHAUSTED, err.message);
  if (err instanceof VolumeContentChangedError) return known(status.ABORTED, err.message);
  if (err instanceof IsolatedFsError) {
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return known(status.RESOURCE_EXHAUSTED, `no space left on the share (${err.op})`);
    if (unavailableCodes.has(err.code)) return known(status.UNAVAILABLE, `storage error ${err.code} during ${err.op}`);
    if (err.code === 'EROFS') return known(status.FAILED_PRECONDITION, `the share is read-only (${err.op})`);
    if (err.code === 'ETREELIMIT') return known(status.FAILED_PRECONDITION, `${err.op}: ${err.message}`);
    return known(status.INTERNAL, `${err.op} failed: ${err.code}`);
  }
  return { code: status.INTERNAL, details: 'internal error', unexpected: true };
}
