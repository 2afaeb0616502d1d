import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { repoRoot } from '../test/helpers/driverProcess';
import { percentile } from './benchKit';
import type { BenchRow } from './benchTable';
import type { LatencyStats } from './latencyStats';
import type { OutageResult } from './outage';
import { delayBeyondSampling as late, eventLoopSamplingMs } from '../src/metrics/eventLoopSampling';

const sec = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const msText = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const lat = (s: LatencyStats): string =>
  `p50 ${msText(s.p50Ms)} ms, p99 ${msText(s.p99Ms)} ms, max ${msText(s.maxMs)} ms (${s.calls} calls)`;

/** The memory limit of the csi-driver container in the node DaemonSet (deploy/kubernetes/base/node.yaml), in MiB. */
export function nodeMemoryLimitMiB(): number {
  const doc = load(readFileSync(path.join(repoRoot, 'deploy', 'kubernetes', 'base', 'node.yaml'), 'utf8')) as {
    spec?: { template?: { spec?: { containers?: Array<{ name?: string; resources?: { limits?: { memory?: string } } }> } } };
  };
  const c = doc.spec?.template?.spec?.containers?.find((x) => x.name === 'csi-driver');
  const m = /^(\d+)(Mi|Gi)$/.exec(c?.resources?.limits?.memory ?? '');
  if (!m) throw new Error('no Mi/Gi memory limit on the csi-driver container of node.yaml');
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The bench rows of one outage run, each with its target from the outage issue. */
export function outageRows(r: OutageResult, limitMiB: number): BenchRow[] {
  const section = `outage[${r.variant} ${r.intervalMs / 1000}s/${r.timeoutMs / 1000}s]`;
  const row = (measure: string, value: string, target?: string, meets?: boolean): BenchRow => ({
    section,
    measure,
    value,
    ...(target ? { target, meets } : {}),
  });
  const d = r.detectionMs;
  const detection = d.length
    ? `first ${sec(Math.min(...d))}, median ${sec(percentile(d, 50))}, last ${sec(Math.max(...d))} (${d.length} of ${d.length + r.undetected} mounts${r.undetected ? `; ${r.undetected} not within ${sec(r.watchLimitMs)}` : ''})`
    : `none of ${r.undetected} mounts within ${sec(r.watchLimitMs)}`;
  const under250 = (s: LatencyStats): [string, boolean] => ['max <= 250 ms', s.maxMs <= 250];
  const eachUnder1s = (xs: number[], what: string): BenchRow =>
    row(
      `${what}, healthy volume`,
      `${xs.map(sec).join(', ')}${xs.length < 3 ? ` (${3 - xs.length} not reached)` : ''}`,
      'each <= 1 s',
      xs.length === 3 && xs.every((x) => x <= 1000),
    );
  const ops = r.healthyOps;
  const tdFails = r.teardownFailures.length;
  const pssTarget = limitMiB * 0.75;
  return [
    row(
      'detection, freeze to reported abnormal',
      detection,
      `last <= ${sec(r.boundMs)} (interval + timeout + tick)`,
      r.undetected === 0 && Math.max(...d) <= r.boundMs,
    ),
    row('Probe', lat(r.probe), ...under250(r.probe)),
    row('NodeGetVolumeStats, healthy volume', lat(r.statsHealthy), ...under250(r.statsHealthy)),
    row('NodeGetVolumeStats, hung volume', lat(r.statsHung), ...under250(r.statsHung)),
    row('/healthz/live', lat(r.live), ...under250(r.live)),
    row(
      'hung volume answered healthy after it was reported abnormal',
      `${r.hungReportedHealthy} answers`,
      '0',
      r.hungReportedHealthy === 0,
    ),
    row(
      'failed calls while measuring',
      Object.entries(r.callErrors)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none',
      'none',
      Object.keys(r.callErrors).length === 0,
    ),
    row(
      `driver event-loop delay: how late its ${eventLoopSamplingMs} ms timer fired (nodejs_eventloop_lag_* less that period)`,
      `p99 ${msText(late(r.lag.p99Ms))} ms, max ${msText(late(r.lag.maxMs))} ms (as scraped: p99 ${msText(r.lag.p99Ms)} ms, max ${msText(r.lag.maxMs)} ms)`,
      'p99 <= 20 ms',
      late(r.lag.p99Ms) <= 20,
    ),
    eachUnder1s(ops.createMs, 'CreateVolume'),
    eachUnder1s(ops.stageMs, 'NodeStageVolume'),
    eachUnder1s(ops.publishMs, 'NodePublishVolume'),
    row(`NodeUnpublishVolume, hung volume, ${r.parallel} at a time`, lat(r.unpublish), 'max <= 10 s', r.unpublish.maxMs <= 10_000),
    row(`NodeUnstageVolume, hung volume, ${r.parallel} at a time`, lat(r.unstage), 'max <= 10 s', r.unstage.maxMs <= 10_000),
    row(
      `teardown of all ${r.h} hung volumes`,
      `${sec(r.teardownTotalMs)}; ${tdFails} failed calls; ${r.leftMounted} mounts left`,
      '<= 60 s, none failed or left',
      r.teardownTotalMs <= 60_000 && tdFails === 0 && r.leftMounted === 0,
    ),
    row(
      'event-loop delay per window: driver, an idle process beside it, helpers started (forks of the driver)',
      (['detection', 'teardown'] as const)
        .map((k) => {
          const w = r.windows[k];
          return `${k}: p99 ${msText(late(w.p99Ms))} ms, max ${msText(late(w.maxMs))} ms; idle process p99 ${msText(late(w.idle.p99Ms))} ms, max ${msText(late(w.idle.maxMs))} ms; ${w.helpersStarted} helpers (CSI lane ${w.csiHelpersStarted})`;
        })
        .join('; '),
    ),
    row('processes under the driver, peak', `${r.peak.helpersMax} (${r.peak.samples} samples)`),
    row(
      'node-plugin memory (PSS of driver and helpers), peak',
      `${r.peak.pssMaxMiB.toFixed(1)} MiB of a ${limitMiB} MiB limit`,
      `<= ${pssTarget.toFixed(0)} MiB (25% headroom)`,
      r.peak.pssMaxMiB <= pssTarget,
    ),
  ];
}
