import * as grpc from '@grpc/grpc-js';

export type CallOutcome<T> = { ok: true; value: T } | { ok: false; code: grpc.status; details: string };

/**
 * Codes a healthy driver may answer under injected faults: UNAVAILABLE (an injected mount,
 * stage or publish failure, or storage that does not answer) and ABORTED (another operation
 * holds the volume). Anything else, a client-side DEADLINE_EXCEEDED included, is a finding.
 */
export const expectedErrorCodes: ReadonlySet<grpc.status> = new Set([grpc.status.UNAVAILABLE, grpc.status.ABORTED]);

/** Counts every call by RPC and status code, and keeps the first unexpected failures for the report. */
export class RpcTally {
  private readonly counts = new Map<string, Map<string, number>>();
  readonly unexpected: string[] = [];

  async call<T>(rpc: string, fn: () => Promise<T>): Promise<CallOutcome<T>> {
    try {
      const value = await fn();
      this.count(rpc, 'OK');
      return { ok: true, value };
    } catch (err) {
      const e = err as Partial<grpc.ServiceError>;
      const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
      const details = e.details ?? (err as Error).message;
      this.count(rpc, grpc.status[code] ?? String(code));
      if (!expectedErrorCodes.has(code) && this.unexpected.length < 20)
        this.unexpected.push(`${rpc}: ${grpc.status[code] ?? code}: ${details}`);
      return { ok: false, code, details };
    }
  }

  /** Calls per RPC, all codes together. */
  perRpc(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [rpc, codes] of [...this.counts].sort(([a], [b]) => a.localeCompare(b)))
      out[rpc] = [...codes.values()].reduce((s, n) => s + n, 0);
    return out;
  }

  /** Calls per status code, all RPCs together. */
  perCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const codes of this.counts.values()) for (const [code, n] of codes) out[code] = (out[code] ?? 0) + n;
    return out;
  }

  /** Calls of the named RPCs. */
  total(rpcs?: readonly string[]): number {
    const per = this.perRpc();
    return Object.entries(per)
      .filter(([rpc]) => !rpcs || rpcs.includes(rpc))
      .reduce((s, [, n]) => s + n, 0);
  }

  /** Counts of codes that are neither OK nor expected. */
  unexpectedCount(): number {
    const expected = new Set(['OK', ...[...expectedErrorCodes].map((c) => grpc.status[c])]);
    return Object.entries(this.perCode())
      .filter(([code]) => !expected.has(code))
      .reduce((s, [, n]) => s + n, 0);
  }

  private count(rpc: string, code: string): void {
    const codes = this.counts.get(rpc) ?? new Map<string, number>();
    codes.set(code, (codes.get(code) ?? 0) + 1);
    this.counts.set(rpc, codes);
  }
}
