/** A file operation that ran in a helper process and overstayed its deadline; the helper was killed. */
export class IsolationTimeoutError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`${op} ${path} did not answer within ${timeoutMs}ms (storage unresponsive)`);
    this.name = 'IsolationTimeoutError';
  }
}

/** A file operation failed in a helper process; `code` is the errno name (ENOENT, ESTALE, ...). */
export class IsolatedFsError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'IsolatedFsError';
  }
}

/** A lane refuses work because too many of its helpers are stuck in the kernel. */
export class HelpersExhaustedError extends Error {
  constructor(readonly stuck: number) {
    super(`${stuck} file helpers are stuck on unresponsive storage; refusing new work`);
    this.name = 'HelpersExhaustedError';
  }
}

/**
 * The isolation layer could not run the operation at all: its thread died, a helper could not
 * start or died under the request, or the pool is closed. Nothing is known about the storage.
 */
export class IsolationBrokenError extends Error {
  constructor(
    readonly op: string,
    readonly why: 'thread-died' | 'helper-start' | 'helper-died' | 'closed',
    detail: string,
  ) {
    super(`${op}: file helpers unavailable (${why}): ${detail}`);
    this.name = 'IsolationBrokenError';
  }
}
