import type { FsHelperPool } from '../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../src/isolation/fsOps';

/**
 * A pool that passes every request to the one `pool()` gives (read at each call, so it may be
 * made later) and notes each request's op in `ops`: the round trips a piece of code makes.
 */
export function countedPool(pool: () => FsHelperPool, ops: string[]): FsHelperPool {
  return {
    run: <R>(req: FsRequest, timeoutMs: number): Promise<R> => {
      ops.push(req.op);
      return pool().run(req, timeoutMs) as Promise<R>;
    },
  } as unknown as FsHelperPool;
}
