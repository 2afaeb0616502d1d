import { strict as assert } from 'node:assert';
import { readMountTable, findMount } from '../../src/mount/mountTable';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { getJson, waitFor } from '../helpers/bindfs';
import { createAndPublish, type PublishedVolume } from '../helpers/publish';

// Interval + timeout of the driver under test; waits below are bounds with slack for a busy machine.
const intervalMs = 1000;
const timeoutMs = 500;
const detectBound = intervalMs + timeoutMs + 8000;

describe('health monitor against hung and broken FUSE mounts (bindfs)', function () {
  this.timeout(120_000);
  let d: DriverProcess;
  const volumes: PublishedVolume[] = [];

  before(async () => {
    d = await startDriverProcess(
      [
        '--health-check-interval',
        `${intervalMs}ms`,
        '--health-check-timeout',
        `${timeoutMs}ms`,
        '--health-failure-threshold',
        '2',
        '--health-success-threshold',
        '2',
      ],
      undefined,
      { health: true },
    );
  });

  after(async () => {
    for (const v of volumes) await v.fuse?.dispose();
    await stopAndClean(d);
  });

  const health = (v: PublishedVolume) =>
    d.client.node.NodeGetVolumeHealth({ volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' }, 5000);
  const stats = (v: PublishedVolume) =>
    d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }, 5000);

  it('reports a frozen mount as MountUnresponsive while the driver keeps answering, and recovers after SIGCONT', async () => {
    const healthy = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-healthy-1');
    volumes.push(healthy);
    const hung = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-hung-1', { fuse: true });
    volumes.push(hung);
    await waitFor(
      'first healthy check',
      async () =>
        (await health(hung)).volume_health?.health_statuses.length === 0 && (await getJson(d.healthPort!, '/healthz/ready')).status === 200,
      detectBound,
    );

    hung.fuse!.freeze();
    const st = await waitFor(
      'abnormal volume stats',
      async () => {
        const s = await stats(hung);
        return s.volume_condition?.abnormal ? s : undefined;
      },
      detectBound,
    );
    assert.match(st.volume_condition!.message, /MountUnresponsive/);
    const h = await health(hung);
    assert.deepEqual(
      h.volume_health!.health_statuses.map((x) => [x.status, x.reason]),
      [['INACCESSIBLE', 'MountUnresponsive']],
    );
    assert.equal((await getJson(d.healthPort!, '/healthz/ready')).status, 503);
    assert.equal((await getJson(d.healthPort!, '/healthz/live')).status, 200);
    // The driver itself stays responsive: these calls carry a 5 s deadline and must succeed.
    assert.equal((await d.client.identity.Probe({}, 5000)).ready?.value, true);
    const healthyStats = await stats(healthy);
    assert.equal(healthyStats.volume_condition?.abnormal, false);
    assert.ok(healthyStats.usage.length > 0);
    const mounts = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<
      string,
      { state: string; reasons: string[]; consecutiveErrors: number }
    >;
    assert.deepEqual(mounts[hung.target]?.reasons, ['MountUnresponsive']);

    hung.fuse!.thaw();
    await waitFor('recovery after SIGCONT', async () => (await health(hung)).volume_health?.health_statuses.length === 0, detectBound * 2);
    const after = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<string, { state: string }>;
    assert.equal(after[hung.target]?.state, 'healthy');
  });

  it('with 8 hung mounts registered, still creates, stages and publishes a healthy volume', async () => {
    const hung: PublishedVolume[] = [];
    for (let i = 0; i < 8; i++)
      hung.push(await createAndPublish(d.client, d.dirs.root, d.dirs.share, `pvc-many-hung-${i}`, { fuse: true }));
    volumes.push(...hung);
    for (const v of hung) v.fuse!.freeze();
    await waitFor(
      'all 8 reported unresponsive',
      async () => {
        for (const v of hung) if (!(await stats(v)).volume_condition?.abnormal) return false;
        return true;
      },
      detectBound * 3,
    );
    const fresh = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-fresh-while-hung');
    volumes.push(fresh);
    assert.ok(findMount(await readMountTable(), fresh.target), 'the new volume is published');
    const s = await stats(fresh);
    assert.ok(s.usage.length > 0);
    const metrics = await (await fetch(`http://127.0.0.1:${d.healthPort}/metrics`)).text();
    assert.match(metrics, /csi_driver_probe_errors_total\{volume_id="pvc-many-hung-0",reason="MountUnresponsive"\} [1-9]/);
    for (const v of hung) v.fuse!.thaw();
  });

  it('reports TransportError for a crashed FUSE daemon, and unpublishes the dead target without leaving a mount', async () => {
    const dead = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-crashed-1', { fuse: true });
    volumes.push(dead);
    dead.fuse!.crash();
    const h = await waitFor(
      'TransportError',
      async () => {
        const r = await health(dead);
        return r.volume_health?.health_statuses.some((x) => x.reason === 'TransportError') ? r : undefined;
      },
      detectBound,
    );
    assert.match(h.volume_health!.health_statuses[0]!.message, /ENOTCONN|not connected/i);
    await d.client.node.NodeUnpublishVolume({ volume_id: dead.volumeId, target_path: dead.target }, 30_000);
    await d.client.node.NodeUnstageVolume({ volume_id: dead.volumeId, staging_target_path: dead.staging }, 30_000);
    const table = await readMountTable();
    assert.equal(findMount(table, dead.target), undefined);
    assert.equal(findMount(table, dead.staging), undefined);
  });
});
