import { strict as assert } from 'node:assert';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { getJson, waitFor } from '../helpers/bindfs';
import { createAndPublish } from '../helpers/publish';

describe('seed-compatible surfaces of a running driver', function () {
  this.timeout(120_000);
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(
      ['--health-check-interval', '1s', '--health-check-timeout', '500ms', '--metrics-compat', 'efs'],
      undefined,
      { health: true },
    );
  });
  after(async () => stopAndClean(d));

  it('shows mountPath and isHealthy in /healthz/mounts and the efs_ metrics for each mount, beside its own', async () => {
    const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-seed');
    const entry = await waitFor(
      'a first check of the published volume',
      async () => {
        const body = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<
          string,
          { mountPath: string; isHealthy: boolean; lastCheckTime: string | null; volumeId: string }
        >;
        const e = body[v.target];
        return e && e.lastCheckTime !== null ? e : undefined;
      },
      30_000,
    );
    assert.equal(entry.mountPath, v.target);
    assert.equal(entry.isHealthy, true);
    assert.equal(entry.volumeId, v.volumeId);
    const text = await (await fetch(`http://127.0.0.1:${d.healthPort!}/metrics`)).text();
    const labels = `{volume_id="${v.volumeId}",mount_path="${v.target}"}`;
    assert.ok(text.includes(`efs_mount_health_status${labels} 1`), 'health status 1 for the healthy target');
    assert.match(
      text,
      new RegExp(
        `^efs_mount_response_time_ms\\{volume_id="${v.volumeId}",mount_path="${v.target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"\\} \\d+`,
        'm',
      ),
    );
    assert.ok(text.includes(`efs_mount_error_total${labels} 0`));
    assert.match(text, /^efs_csi_driver_healthy [01]$/m);
    assert.match(text, /^csi_driver_healthy [01]$/m, 'our own metrics stay');
    await d.client.node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target });
    await d.client.node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging });
  });
});
