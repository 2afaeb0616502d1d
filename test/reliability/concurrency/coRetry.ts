import { grpc } from '../../helpers/csiClient';

/** The gRPC status of a failed call, or OK. */
export function codeOf(err: unknown): grpc.status {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : grpc.status.UNKNOWN;
}

/** The name of a status code, for messages. */
export function codeName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

/** How one call ended: its value or its status, never a rejection. */
export type Outcome<T> = { code: grpc.status.OK; value: T } | { code: Exclude<grpc.status, grpc.status.OK>; details: string };

/** Runs a call and turns a failure into its status code. */
export async function settle<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { code: grpc.status.OK, value: await p };
  } catch (err) {
    return {
      code: codeOf(err) as Exclude<grpc.status, grpc.status.OK>,
      details: (err as { details?: string }).details ?? (err as Error).message,
    };
  }
}

export interface RetryOptions {
  /** Codes after which the CO tries again; anything else ends the retries. */
  retryOn?: grpc.status[];
  /** Backoff between attempts: uniform in [minMs, maxMs]. */
  minMs?: number;
  maxMs?: number;
  /** Give up (and return the last outcome) after this long. */
  deadlineMs?: number;
  /** Source of the backoff jitter (a seeded one keeps a run reproducible). */
  random?: () => number;
}

/** An outcome with the statuses seen on the way to it. */
export type Retried<T> = Outcome<T> & { attempts: number; seen: grpc.status[] };

/**
 * Calls `fn` as a CO does: while it fails with a retryable code (ABORTED by default), wait a short
 * jittered backoff and call again; stop at success, at a code that is not retryable, or at the deadline.
 */
export async function retryAsCo<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<Retried<T>> {
  const retryOn = opts.retryOn ?? [grpc.status.ABORTED];
  const min = opts.minMs ?? 2;
  const max = opts.maxMs ?? 20;
  const random = opts.random ?? Math.random;
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  const seen: grpc.status[] = [];
  for (let attempts = 1; ; attempts++) {
    const out = await settle(fn());
    seen.push(out.code);
    if (out.code === grpc.status.OK || !retryOn.includes(out.code) || Date.now() > deadline) return { ...out, attempts, seen };
    await new Promise((r) => setTimeout(r, min + random() * (max - min)));
  }
}

/** The value of an outcome, or an error naming the call and its status. */
export function valueOf<T>(what: string, out: Outcome<T>): T {
  if (out.code === grpc.status.OK) return out.value;
  throw new Error(`${what}: ${codeName(out.code)}: ${out.details}`);
}
