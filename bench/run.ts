import { fmtMs, percentile } from './benchKit';
import { cpuPerInterval, heapPerMount } from './monitorCost';
import { hungMountBench } from './hungMounts';

/**
 * `npm run bench`: the health monitor's costs and the driver's responsiveness with hung mounts.
 * Timings here are measurements, not pass/fail checks; each line says its target.
 */
async function main(): Promise<void> {
  const mounts = Number(process.env.BENCH_MOUNTS ?? 1000);
  const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 30_000);
  const line = (s: string): void => void process.stdout.write(`${s}\n`);
  line(`bench: ${new Date().toISOString()} node ${process.version}`);

  const only = process.env.BENCH_ONLY ?? '';
  if (only !== 'hung') {
  const heap = await heapPerMount(mounts);
  line(`heap per registered mount at ${mounts} mounts: ${(heap / 1024).toFixed(2)} KB (target <= 2 KB)`);

  const intervals = Number(process.env.BENCH_CPU_INTERVALS ?? 3);
  const cpu = await cpuPerInterval(mounts, intervalMs, intervals);
  line(
    `cpu per interval at ${mounts} mounts: ${(cpu.fraction * 100).toFixed(3)}% of a core, mean of ${intervals} intervals of ${intervalMs / 1000}s ` +
      `(each: ${cpu.windows.map((w) => `${(w * 100).toFixed(3)}%`).join(', ')}; ${cpu.probes} probes; driver ${cpu.selfSeconds.toFixed(3)} s + probe helpers ${cpu.helperSeconds.toFixed(3)} s CPU; target <= 0.5%)`,
  );
  }
  if (only === 'cpu') return;
  const h = await hungMountBench(Number(process.env.BENCH_ROUNDS ?? 5), Number(process.env.BENCH_CALLS ?? 300));
  line(
    `fault to detection (SIGSTOP of the FUSE daemon, interval 2s + timeout 1s): median ${fmtMs(percentile(h.detectionMs, 50))} ms, ` +
      `max ${fmtMs(Math.max(...h.detectionMs))} ms over ${h.detectionMs.length} rounds (bound interval + timeout = ${h.boundMs} ms)`,
  );
  line(`with 10 hung mounts, Probe: p50 ${fmtMs(percentile(h.probeMs, 50))} ms, p99 ${fmtMs(percentile(h.probeMs, 99))} ms (target p99 < 10 ms)`);
  line(
    `with 10 hung mounts, NodeGetVolumeStats healthy volume: p50 ${fmtMs(percentile(h.statsHealthyMs, 50))} ms, p99 ${fmtMs(percentile(h.statsHealthyMs, 99))} ms; ` +
      `hung volume: p50 ${fmtMs(percentile(h.statsHungMs, 50))} ms, p99 ${fmtMs(percentile(h.statsHungMs, 99))} ms (target p99 < 10 ms)`,
  );
  line(`with 10 hung mounts, driver event-loop lag p99: ${fmtMs(h.lagP99Ms)} ms (target < 20 ms)`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
