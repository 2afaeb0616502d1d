import { strict as assert } from 'node:assert';
import type { HealthIssue } from '../../../src/health/healthIssue';
import { newMountHealth, type MountHealth } from '../../../src/health/mountHealth';
import { DriverMetrics, type MetricsSources } from '../../../src/metrics/driverMetrics';
import { mountsReport } from '../../../src/http/mountsReport';

function mount(volumeId: string, path: string, changes: Partial<MountHealth>): MountHealth {
  return { ...newMountHealth({ volumeId, path, kind: 'publish', readOnly: false, expectedSource: '' }, 1_000, 2_000), ...changes };
}

const hung: HealthIssue = { status: 'INACCESSIBLE', reason: 'MountUnresponsive', message: 'stat did not answer within 5000ms' };

function sources(): MetricsSources & { all: MountHealth[] } {
  const all = [
    mount('pvc-a', '/var/lib/kubelet/pods/p1/volumes/a/mount', {
      state: 'healthy',
      lastCheckTime: 5_000,
      responseTimeMs: 12,
      errorCount: 0,
    }),
    mount('pvc-b', '/var/lib/kubelet/pods/p2/volumes/b/mount', {
      state: 'unhealthy',
      lastCheckTime: 6_000,
      responseTimeMs: 5_003,
      errorCount: 7,
      consecutiveErrors: 3,
      lastError: 'MountUnresponsive: stat did not answer',
      issues: [hung],
    }),
    mount('pvc-c', '/var/lib/kubelet/pods/p3/volumes/c/mount', {}),
  ];
  return {
    all,
    mounts: () => all,
    issuesOf: (p) => all.find((m) => m.reg.path === p)?.issues ?? [],
    stuckHelpers: () => 0,
    driverHealthy: () => false,
    storageReachable: () => true,
  };
}

/** The value of one series in Prometheus text, or undefined when the series is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('--metrics-compat efs', () => {
  it("exports the seed design's four metrics with its meanings and units", async () => {
    const src = sources();
    const text = await new DriverMetrics(src, 'efs').text();
    const a = '{volume_id="pvc-a",mount_path="/var/lib/kubelet/pods/p1/volumes/a/mount"}';
    const b = '{volume_id="pvc-b",mount_path="/var/lib/kubelet/pods/p2/volumes/b/mount"}';
    const c = '{volume_id="pvc-c",mount_path="/var/lib/kubelet/pods/p3/volumes/c/mount"}';
    assert.equal(sample(text, `efs_mount_health_status${a}`), 1);
    assert.equal(sample(text, `efs_mount_health_status${b}`), 0);
    assert.equal(sample(text, `efs_mount_health_status${c}`), 1, 'a mount not checked yet has nothing against it');
    assert.equal(sample(text, `efs_mount_response_time_ms${a}`), 12);
    assert.equal(sample(text, `efs_mount_response_time_ms${b}`), 5003);
    assert.equal(sample(text, `efs_mount_response_time_ms${c}`), undefined, 'no response time before the first check');
    assert.equal(sample(text, `efs_mount_error_total${b}`), 7);
    assert.equal(sample(text, `efs_mount_error_total${a}`), 0);
    assert.equal(sample(text, 'efs_csi_driver_healthy'), 0);
    assert.match(text, /# TYPE efs_mount_error_total counter/);
    assert.match(text, /# TYPE efs_mount_health_status gauge/);
    assert.equal(sample(text, 'csi_driver_healthy'), 0, 'our own metrics stay');
  });

  it('drops the series of a mount that is gone', async () => {
    const src = sources();
    const metrics = new DriverMetrics(src, 'efs');
    await metrics.text();
    src.all.splice(1, 1);
    const text = await metrics.text();
    assert.ok(!text.includes('pvc-b'), 'no series of the unmounted volume');
  });

  it('exports none of them by default', async () => {
    const text = await new DriverMetrics(sources()).text();
    assert.ok(!/^efs_/m.test(text));
    assert.equal(sample(text, 'csi_driver_healthy'), 0);
  });
});

describe('/healthz/mounts entries', () => {
  it("carry the seed's mountPath and isHealthy next to every field of ours", () => {
    const src = sources();
    const report = mountsReport(src.all, src.issuesOf);
    const b = report['/var/lib/kubelet/pods/p2/volumes/b/mount'];
    assert.ok(b);
    assert.equal(b.mountPath, '/var/lib/kubelet/pods/p2/volumes/b/mount');
    assert.equal(b.isHealthy, false);
    assert.deepEqual(
      [b.volumeId, b.state, b.responseTimeMs, b.errorCount, b.consecutiveErrors, b.lastError, b.reasons],
      ['pvc-b', 'unhealthy', 5003, 7, 3, 'MountUnresponsive: stat did not answer', ['MountUnresponsive']],
    );
    assert.equal(b.lastCheckTime, new Date(6_000).toISOString());
    assert.equal(report['/var/lib/kubelet/pods/p1/volumes/a/mount']?.isHealthy, true);
  });
});
