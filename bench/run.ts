import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmtMs, percentile } from './benchKit';
import { delayBeyondSampling, eventLoopSamplingMs } from '../src/metrics/eventLoopSampling';
import { parseBenchArgs, wants } from './benchArgs';
import { formatTable, type BenchRow } from './benchTable';
import { cpuPerInterval, heapPerMountIsolated } from './monitorCost';
import { detectionBench } from './detection';
import { hungMountBench } from './hungMounts';
import { rpcLatencyBench } from './rpcLatency';
import { startupBench } from './startup';
import { outageRun } from './outage';
import { nodeMemoryLimitMiB, outageRows } from './outageRows';

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const say = (s: string): void => void process.stdout.write(`${s}\n`);

/**
 * `npm run bench [-- --json FILE] [-- --only rpc,monitor,detection,hung,startup,outage]`: RPC
 * latency, the health monitor's cost at 100, 1,000 and 5,000 mounts, fault-to-detection time, RPC
 * latency with hung mounts, start-up time and idle memory, and a whole-server outage (hundreds of
 * mounts hung at once; its options in benchArgs.ts). Prints each figure as it is measured, then a
 * table, and writes everything as JSON. These are measurements, not pass/fail checks.
 */
async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), process.env);
  const machine = {
    date: new Date().toISOString(),
    host: os.hostname(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
  say(
    `bench: ${machine.date} on ${machine.cores} x ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.kernel}, node ${machine.node}, load ${machine.loadAverage.join(' ')}`,
  );
  const rows: BenchRow[] = [];
  const results: Record<string, unknown> = {};
  const row = (r: BenchRow): void => {
    rows.push(r);
    const mark = r.meets === undefined ? '' : r.meets ? ': met' : ': MISSED';
    say(`${r.section}: ${r.measure}: ${r.value}${r.target ? ` (target ${r.target}${mark})` : ''}`);
  };

  if (wants(args, 'rpc')) {
    const rpc = await rpcLatencyBench(
      num('BENCH_CALLS', 2000),
      num('BENCH_CREATE_CALLS', 300),
      num('BENCH_LIST_VOLUMES', 200),
      num('BENCH_LIST_CALLS', 50),
    );
    results.rpcLatency = rpc;
    for (const r of rpc)
      row({
        section: 'rpc',
        measure: `${r.rpc}, concurrency ${r.concurrency}`,
        value: `p50 ${fmtMs(r.stats.p50Ms)} ms, p99 ${fmtMs(r.stats.p99Ms)} ms (${r.stats.calls} calls)`,
      });
  }

  if (wants(args, 'monitor')) {
    const sizes = (process.env.BENCH_MOUNTS ?? '100,1000,5000').split(',').map(Number);
    const intervalMs = num('BENCH_INTERVAL_MS', 30_000);
    const intervals = num('BENCH_CPU_INTERVALS', 3);
    const monitor: unknown[] = [];
    for (const n of sizes) {
      const heap = heapPerMountIsolated(n);
      const cpu = await cpuPerInterval(n, intervalMs, intervals);
      monitor.push({ mounts: n, heapBytesPerMount: heap, intervalMs, ...cpu });
      const at1000 = n === 1000;
      row({
        section: 'monitor',
        measure: `heap per mount, ${n} mounts`,
        value: `${(heap / 1024).toFixed(2)} KB`,
        ...(at1000 ? { target: '<= 2 KB', meets: heap <= 2048 } : {}),
      });
      row({
        section: 'monitor',
        measure: `CPU per interval, ${n} mounts`,
        value: `${(cpu.fraction * 100).toFixed(3)}% of a core (${intervals} x ${intervalMs / 1000} s: ${cpu.windows.map((w) => `${(w * 100).toFixed(3)}%`).join(', ')}; ${cpu.probes} probes)`,
        ...(at1000 ? { target: '<= 0.5%', meets: cpu.fraction <= 0.005 } : {}),
      });
      row({
        section: 'monitor',
        measure: `probe helpers alive, ${n} mounts`,
        value: `mean ${cpu.helpersMean.toFixed(1)}, max ${cpu.helpersMax}`,
      });
    }
    results.monitor = monitor;
  }

  if (wants(args, 'detection')) {
    const det = await detectionBench(num('BENCH_ROUNDS', 5));
    results.detection = det;
    const bound = `<= ${det.boundMs} ms (interval + timeout)`;
    row({
      section: 'detection',
      measure: `hung mount (SIGSTOP) to MountUnresponsive, ${det.hungMs.length} rounds`,
      value: `median ${fmtMs(percentile(det.hungMs, 50))} ms, max ${fmtMs(Math.max(...det.hungMs))} ms`,
      target: bound,
      meets: Math.max(...det.hungMs) <= det.boundMs,
    });
    row({
      section: 'detection',
      measure: `dead mount (SIGKILL) to ${det.deadReasons.join('/')}, ${det.deadMs.length} rounds`,
      value: `median ${fmtMs(percentile(det.deadMs, 50))} ms, max ${fmtMs(Math.max(...det.deadMs))} ms`,
      target: bound,
      meets: Math.max(...det.deadMs) <= det.boundMs,
    });
  }

  if (wants(args, 'hung')) {
    const h = await hungMountBench(num('BENCH_HUNG_CALLS', 300));
    results.hungMounts = h;
    const under10 = (p99: number): { target: string; meets: boolean } => ({ target: 'p99 < 10 ms', meets: p99 < 10 });
    const lat = (s: { p50Ms: number; p99Ms: number }): string => `p50 ${fmtMs(s.p50Ms)} ms, p99 ${fmtMs(s.p99Ms)} ms`;
    row({ section: '10 hung mounts', measure: 'Probe', value: lat(h.probe), ...under10(h.probe.p99Ms) });
    row({
      section: '10 hung mounts',
      measure: 'NodeGetVolumeStats, healthy volume',
      value: lat(h.statsHealthy),
      ...under10(h.statsHealthy.p99Ms),
    });
    row({ section: '10 hung mounts', measure: 'NodeGetVolumeStats, hung volume', value: lat(h.statsHung), ...under10(h.statsHung.p99Ms) });
    row({
      section: '10 hung mounts',
      measure: `driver event-loop delay p99 (how late its ${eventLoopSamplingMs} ms timer fired)`,
      value: `${fmtMs(delayBeyondSampling(h.lagP99Ms))} ms (as scraped: ${fmtMs(h.lagP99Ms)} ms)`,
      target: '< 20 ms',
      meets: delayBeyondSampling(h.lagP99Ms) < 20,
    });
  }

  if (wants(args, 'startup')) {
    const s = await startupBench(num('BENCH_STARTS', 5), num('BENCH_IDLE_MS', 10_000));
    results.startup = s;
    row({
      section: 'startup',
      measure: `spawn to first served Probe, ${s.toProbeMs.length} starts`,
      value: `median ${fmtMs(s.medianToProbeMs)} ms, max ${fmtMs(Math.max(...s.toProbeMs))} ms`,
    });
    row({
      section: 'startup',
      measure: `idle RSS after ${s.idleMs / 1000} s`,
      value: `driver ${s.idleRssMiB.toFixed(1)} MiB; ${s.idleHelpers} probe helpers ${s.idleHelpersRssMiB.toFixed(1)} MiB`,
    });
  }

  if (wants(args, 'outage')) {
    const o = args.outage;
    const limitMiB = nodeMemoryLimitMiB();
    const runs: unknown[] = [];
    results.outage = runs;
    for (const { intervalMs, timeoutMs } of o.settings) {
      for (const variant of o.variants) {
        const r = await outageRun({ variant, intervalMs, timeoutMs, n: o.n, h: o.h, parallel: o.parallel }, say);
        runs.push({ ...r, memoryLimitMiB: limitMiB });
        for (const line of outageRows(r, limitMiB)) row(line);
      }
    }
  }

  say('');
  say(formatTable(rows));
  mkdirSync(path.dirname(path.resolve(args.jsonFile)), { recursive: true });
  writeFileSync(args.jsonFile, `${JSON.stringify({ machine, rows, results }, null, 2)}\n`);
  say(`\nwrote ${args.jsonFile}`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
