/**
 * The period of the timer behind `nodejs_eventloop_lag_*` (prom-client's default metrics, from
 * Node's monitorEventLoopDelay). Each sample is the time between two firings of that timer, so
 * the figures include the period: an idle loop reads about this much, and how late the loop
 * was is the figure less this.
 */
export const eventLoopSamplingMs = 10;

/** How late the loop ran its timer, from a `nodejs_eventloop_lag_*` figure: the period taken off. */
export function delayBeyondSampling(recordedMs: number): number {
  return Math.max(0, recordedMs - eventLoopSamplingMs);
}
