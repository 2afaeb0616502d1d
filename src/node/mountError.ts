import { deadlineExceeded, failedPrecondition, internal } from '../grpc/csiError';
import { IsolatedFsError } from '../isolation/isolationErrors';

/** The helper's refusals, as the statuses a CO acts on. */
export function mountError(err: unknown): unknown {
  if (!(err instanceof IsolatedFsError)) return err;
  if (err.code === 'EFOREIGN' || err.code === 'EMOVED' || err.code === 'EBUSY') return failedPrecondition(err.message);
  if (err.code === 'EMOUNTCMD') return internal(err.message);
  if (err.code === 'ETIMEDOUT') return deadlineExceeded(err.message);
  return err;
}
