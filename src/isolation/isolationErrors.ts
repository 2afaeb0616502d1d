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

/** The helper pool refuses work because too many helpers are stuck in the kernel. */
export class HelpersExhaustedError extends Error {
  constructor(readonly stuck: number) {
    super(`${stuck} file helpers are stuck on unresponsive storage; refusing new work`);
    this.name = 'HelpersExhaustedError';
  }
}
