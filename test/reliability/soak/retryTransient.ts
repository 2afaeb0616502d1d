import * as grpc from '@grpc/grpc-js';

/** Deadline of one call: far above any healthy answer, so that only a hang reaches it. */
export const callDeadlineMs = 30_000;

/**
 * Repeats a call while it fails with a transient code (UNAVAILABLE from a fault still armed,
 * ABORTED from another operation on the volume); true once it succeeds.
 */
export async function retryTransient(fn: () => Promise<{ ok: boolean; code?: grpc.status }>, attempts = 20): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    const r = await fn();
    if (r.ok) return true;
    if (r.code !== grpc.status.UNAVAILABLE && r.code !== grpc.status.ABORTED) return false;
    await new Promise((res) => setTimeout(res, 250));
  }
  return false;
}
