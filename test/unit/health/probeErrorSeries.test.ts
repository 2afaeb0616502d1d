import { strict as assert } from 'node:assert';
import { DriverMetrics } from '../../../src/metrics/driverMetrics';
import type { MountHealth } from '../../../src/health/mountHealth';
import { metricsSources } from '../../helpers/metricsSources';

function mount(volumeId: string, path: string): MountHealth {
  return {
    reg: { volumeId, path, kind: 'publish', readOnly: false, expectedSource: '' },
    state: 'degraded',
    issues: [],
    lastCheckTime: 0,
    responseTimeMs: 0,
    errorCount: 1,
    consecutiveErrors: 1,
    consecutiveSuccesses: 0,
    lastError: '',
    since: 0,
    statfs: undefined,
    nextDueAt: 0,
    inFlight: false,
    stuck: false,
    retiring: false,
  };
}

/**
 * csi_driver_probe_errors_total is labelled by volume id. Volumes come and go by the thousand on
 * a busy node; series of volumes no longer mounted here must go with them, or the driver's
 * memory and every scrape grow with each volume that ever had a failed check.
 */
describe('DriverMetrics: probe-error series of volumes no longer mounted', () => {
  it('keeps the series while the volume is mounted and drops all its reasons once it is not', async () => {
    let mounts = [mount('vol-a', '/a'), mount('vol-b', '/b')];
    const metrics = new DriverMetrics(metricsSources({ mounts: () => mounts }));
    const [a, b] = mounts as [MountHealth, MountHealth];
    metrics.observeProbe(a, 0.5, { status: 'INACCESSIBLE', reason: 'MountUnresponsive', message: 'timeout' });
    metrics.observeProbe(a, 0.01, { status: 'INACCESSIBLE', reason: 'TransportError', message: 'ENOTCONN' });
    metrics.observeProbe(b, 0.5, { status: 'INACCESSIBLE', reason: 'MountUnresponsive', message: 'timeout' });

    const before = await metrics.text();
    assert.match(before, /csi_driver_probe_errors_total\{volume_id="vol-a",reason="MountUnresponsive"\} 1/);
    assert.match(before, /csi_driver_probe_errors_total\{volume_id="vol-a",reason="TransportError"\} 1/);

    mounts = [b];
    const after = await metrics.text();
    assert.doesNotMatch(after, /volume_id="vol-a"/);
    assert.match(after, /csi_driver_probe_errors_total\{volume_id="vol-b",reason="MountUnresponsive"\} 1/);
    // The unlabelled total keeps counting every timeout.
    assert.match(after, /csi_driver_probe_timeouts_total 2/);

    // A volume mounted here again starts a fresh series.
    mounts = [a, b];
    metrics.observeProbe(a, 0.5, { status: 'INACCESSIBLE', reason: 'MountUnresponsive', message: 'timeout' });
    assert.match(await metrics.text(), /csi_driver_probe_errors_total\{volume_id="vol-a",reason="MountUnresponsive"\} 1/);
  });
});
