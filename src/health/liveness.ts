import type { IsolationStatus } from '../isolation/isolatedFs';

/** What /healthz/live answers: a verdict and why. */
export interface Liveness {
  ok: boolean;
  message: string;
}

/**
 * Lenient liveness: the process is alive while its monitor loop ticks and its isolation layer
 * can run work. Sick storage never fails it (a restart cures no NFS outage); a dead helper
 * thread does, for as long as it stays down.
 */
export function liveness(loop: () => Liveness, isolation: () => IsolationStatus): () => Liveness {
  return () => {
    const l = loop();
    const i = isolation();
    return { ok: l.ok && i.ok, message: `${l.message}; ${i.message}` };
  };
}
