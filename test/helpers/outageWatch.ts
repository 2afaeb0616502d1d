import type { CsiClient } from './csiClient';
import type { PublishedVolume } from './publish';

/** What /healthz/mounts says about one mount point (only the fields the outage checks read). */
interface MountReport {
  state?: string;
  reasons?: string[];
  lastCheckTime?: string | null;
}

/** The mount reports of the health port, by mount point. */
export async function mountReports(port: number, timeoutMs = 30_000): Promise<Record<string, MountReport>> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz/mounts`, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`/healthz/mounts answered ${res.status}`);
  return (await res.json()) as Record<string, MountReport>;
}

/** A mount is reported abnormal when the monitor names a reason for it. */
export function isAbnormal(r: MountReport | undefined): boolean {
  return (r?.reasons?.length ?? 0) > 0;
}

/** True when every path has been checked at least once and is reported healthy. */
export function allCheckedHealthy(reports: Record<string, MountReport>, paths: readonly string[]): boolean {
  return paths.every((p) => Boolean(reports[p]?.lastCheckTime) && !isAbnormal(reports[p]));
}

/** The mount points (staging and publish) of volumes. */
export function mountPathsOf(volumes: readonly PublishedVolume[]): string[] {
  return volumes.flatMap((v) => [v.staging, v.target]);
}

/**
 * Polls /healthz/mounts every `stepMs` until every path in `paths` is reported abnormal or
 * `limitMs` has passed since `t0` (a performance.now() value). Returns, per path, the time from
 * `t0` to the arrival of the first poll answer that showed it abnormal (so at most one step
 * late); paths never seen abnormal are absent. `seen` is filled as the polls go, for callers that
 * look while it runs.
 */
export async function watchDetection(
  port: number,
  paths: readonly string[],
  t0: number,
  limitMs: number,
  seen = new Map<string, number>(),
  stepMs = 250,
): Promise<Map<string, number>> {
  while (seen.size < paths.length && performance.now() - t0 < limitMs) {
    try {
      const reports = await mountReports(port);
      const at = performance.now() - t0;
      for (const p of paths) if (!seen.has(p) && isAbnormal(reports[p])) seen.set(p, at);
    } catch {
      // a slow or failed poll is retried; the next one that answers counts
    }
    if (seen.size < paths.length) await new Promise((r) => setTimeout(r, stepMs));
  }
  return seen;
}

/** One NodeUnpublish or NodeUnstage call of a teardown. */
export interface TeardownCall {
  volumeId: string;
  rpc: 'NodeUnpublishVolume' | 'NodeUnstageVolume';
  ms: number;
  /** The gRPC error's code and details when the call failed. */
  error?: string;
}

/**
 * Unpublishes then unstages every volume, `parallel` volumes at a time as the kubelet does, and
 * returns each call's outcome; a failed unpublish still goes on to the unstage, so that one
 * failure does not hide the others. `onStart` hears of each volume before its unpublish,
 * `onCall` of each call as it returns.
 */
export async function tearDown(
  client: CsiClient,
  volumes: readonly PublishedVolume[],
  parallel: number,
  deadlineMs: number,
  hooks: { onStart?: (v: PublishedVolume) => void; onCall?: (c: TeardownCall) => void } = {},
): Promise<TeardownCall[]> {
  const calls: TeardownCall[] = [];
  const timed = async (volumeId: string, rpc: TeardownCall['rpc'], call: () => Promise<unknown>): Promise<void> => {
    const t = performance.now();
    let c: TeardownCall;
    try {
      await call();
      c = { volumeId, rpc, ms: performance.now() - t };
    } catch (err) {
      const e = err as { code?: number; details?: string; message?: string };
      c = { volumeId, rpc, ms: performance.now() - t, error: `${e.code ?? ''} ${e.details ?? e.message ?? String(err)}`.trim() };
    }
    calls.push(c);
    hooks.onCall?.(c);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < volumes.length) {
      const v = volumes[next++]!;
      hooks.onStart?.(v);
      await timed(v.volumeId, 'NodeUnpublishVolume', () =>
        client.node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target }, deadlineMs),
      );
      await timed(v.volumeId, 'NodeUnstageVolume', () =>
        client.node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging }, deadlineMs),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, volumes.length) }, worker));
  return calls;
}
