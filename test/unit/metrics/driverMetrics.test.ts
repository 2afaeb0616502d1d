import { strict as assert } from 'node:assert';
import { newMountHealth, type MountHealth, type MountState } from '../../../src/health/mountHealth';
import { DriverMetrics } from '../../../src/metrics/driverMetrics';
import { delayBeyondSampling, eventLoopSamplingMs } from '../../../src/metrics/eventLoopSampling';
import { metricsSources } from '../../helpers/metricsSources';

function mount(path: string, kind: 'staging' | 'publish', state: MountState): MountHealth {
  return { ...newMountHealth({ volumeId: 'pvc-a', path, kind, readOnly: false, expectedSource: '' }, 1_000, 2_000), state };
}

describe('csi_driver_volume_health_state', () => {
  it('sets 1 on the worst state of each volume and mount kind, labelled with its volume id and kind', async () => {
    const all = [
      mount('/k/staging/pvc-a', 'staging', 'healthy'),
      mount('/k/pods/p1/pvc-a', 'publish', 'degraded'),
      mount('/k/pods/p2/pvc-a', 'publish', 'unhealthy'),
    ];
    const metrics = new DriverMetrics(metricsSources({ mounts: () => all, driverHealthy: () => false }));
    const gauge = metrics.registry.getSingleMetric('csi_driver_volume_health_state');
    assert.ok(gauge);
    const set = (await gauge.get()).values.filter((v) => v.value === 1).map((v) => v.labels);
    assert.deepEqual(
      set.sort((a, b) => String(a.kind).localeCompare(String(b.kind))),
      [
        { volume_id: 'pvc-a', kind: 'publish', state: 'unhealthy' },
        { volume_id: 'pvc-a', kind: 'staging', state: 'healthy' },
      ],
    );
  });
});

describe('csi_driver_volume_injected_fault', () => {
  it('has one series per volume and reason, however many of its mounts carry the fault', async () => {
    const all = [mount('/k/staging/pvc-a', 'staging', 'healthy'), mount('/k/pods/p1/pvc-a', 'publish', 'healthy')];
    const injected = { status: 'DEGRADED' as const, reason: 'InjectedSlowServer', message: 'slow', injected: true };
    const metrics = new DriverMetrics(metricsSources({ mounts: () => all, issuesOf: () => [injected] }));
    const lines = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('csi_driver_volume_injected_fault{'));
    assert.deepEqual(lines, ['csi_driver_volume_injected_fault{volume_id="pvc-a",reason="InjectedSlowServer"} 1']);
    const state = (await metrics.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('csi_driver_volume_health_state{') && l.endsWith(' 1'));
    assert.deepEqual(state.sort(), [
      'csi_driver_volume_health_state{volume_id="pvc-a",kind="publish",state="degraded"} 1',
      'csi_driver_volume_health_state{volume_id="pvc-a",kind="staging",state="degraded"} 1',
    ]);
  });
});

describe('csi_driver_file_helpers_started_total and _killed_total', () => {
  it('report the pool totals per lane at each scrape', async () => {
    const totals = { csi: { started: 3, killed: 0 }, probe: { started: 7, killed: 2 } };
    const metrics = new DriverMetrics(metricsSources({ helperTotals: () => totals }));
    const text = async (): Promise<string> => metrics.registry.metrics();
    assert.match(await text(), /^csi_driver_file_helpers_started_total\{lane="probe"\} 7$/m);
    totals.probe.killed = 5;
    totals.csi.started = 4;
    const now = await text();
    assert.match(now, /^csi_driver_file_helpers_killed_total\{lane="probe"\} 5$/m);
    assert.match(now, /^csi_driver_file_helpers_started_total\{lane="csi"\} 4$/m);
    assert.match(now, /^csi_driver_file_helpers_killed_total\{lane="csi"\} 0$/m);
  });
});

describe('nodejs_eventloop_lag_*', () => {
  it('includes the period of its sampling timer, which delayBeyondSampling takes off', async () => {
    const metrics = new DriverMetrics(metricsSources({}));
    await new Promise((r) => setTimeout(r, 300));
    const text = await metrics.registry.metrics();
    const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const minMs = read('nodejs_eventloop_lag_min_seconds') * 1000;
    // Every sample spans at least one period (libuv may fire a timer up to 1 ms early).
    assert.ok(minMs >= eventLoopSamplingMs - 1.5, `min ${minMs} ms`);
    assert.ok(read('nodejs_eventloop_lag_p99_seconds') * 1000 >= minMs);
    assert.equal(delayBeyondSampling(eventLoopSamplingMs + 11.8), 11.8);
    assert.equal(delayBeyondSampling(eventLoopSamplingMs - 0.3), 0);
  });
});
