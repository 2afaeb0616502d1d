/** The lag canary's process (see lagCanary.ts): measures its own event-loop lag and answers per window. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { eventLoopSamplingMs } from '../src/metrics/eventLoopSampling';

const h = monitorEventLoopDelay({ resolution: eventLoopSamplingMs });
h.enable();
process.on('message', () => {
  process.send?.({ p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 });
  h.reset();
});
process.send?.('ready');
