import { percentile } from './benchKit';

export interface LatencyStats {
  calls: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencyStats(samples: number[]): LatencyStats {
  return { calls: samples.length, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: Math.max(...samples) };
}

/**
 * Runs `op` `calls` times with `concurrency` callers in flight and returns each call's latency
 * in ms (the time one caller waited, queueing in the driver included).
 */
export async function timedCalls(calls: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < calls) {
      const i = next++;
      const t = performance.now();
      await op(i);
      samples.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return samples;
}
