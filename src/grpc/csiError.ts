import { status } from '@grpc/grpc-js';

/** An error that carries the gRPC status code a CSI client should see. */
export class CsiError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'CsiError';
  }
}

export const invalidArgument = (msg: string): CsiError => new CsiError(status.INVALID_ARGUMENT, msg);
export const notFound = (msg: string): CsiError => new CsiError(status.NOT_FOUND, msg);
export const alreadyExists = (msg: string): CsiError => new CsiError(status.ALREADY_EXISTS, msg);
export const aborted = (msg: string): CsiError => new CsiError(status.ABORTED, msg);
export const failedPrecondition = (msg: string): CsiError => new CsiError(status.FAILED_PRECONDITION, msg);
export const outOfRange = (msg: string): CsiError => new CsiError(status.OUT_OF_RANGE, msg);
export const resourceExhausted = (msg: string): CsiError => new CsiError(status.RESOURCE_EXHAUSTED, msg);
export const unavailable = (msg: string): CsiError => new CsiError(status.UNAVAILABLE, msg);
export const unimplemented = (msg: string): CsiError => new CsiError(status.UNIMPLEMENTED, msg);
export const deadlineExceeded = (msg: string): CsiError => new CsiError(status.DEADLINE_EXCEEDED, msg);
export const internal = (msg: string): CsiError => new CsiError(status.INTERNAL, msg);
