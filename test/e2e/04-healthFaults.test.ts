import { strict as assert } from 'node:assert';
import { expectCode, grpc } from '../helpers/csiClient';
import {
  describeInGuest,
  expectOnServer,
  faultCtl,
  intervalMs,
  isMounted,
  mountCap,
  readThrough,
  recordTiming,
  sharedDriver,
  timeoutMs,
  waitFor,
  workRoot,
  writeThrough,
  type E2eDriver,
} from './e2eHarness';

const MiB = 1024 ** 2;
/** Scheduling and RPC latency under TCG on top of interval + timeout. */
const slackMs = 2_500;

describeInGuest('e2e health under server faults (ganesha frozen, killed, restarted)', function () {
  this.timeout(120_000);
  let d: E2eDriver;
  const id = 'pvc-e2e-health';
  const staging = `${workRoot}/staging/${id}`;
  const target = `${workRoot}/pods/h/volumes/${id}/mount`;
  const data = `survives faults ${new Date().toISOString()}\n`;

  const volumeIssues = async (): Promise<string[]> => {
    const v = await d.client.node.NodeGetVolumeHealth({ volume_id: id, volume_publish_path: target, staging_target_path: staging });
    return (v.volume_health?.health_statuses ?? []).map((s) => s.reason);
  };
  const storageIssues = async (): Promise<string[]> => (await d.client.node.NodeGetStorageHealth({})).backend_health.map((s) => s.reason);
  const abnormal = async (): Promise<boolean> =>
    (await d.client.node.NodeGetVolumeStats({ volume_id: id, volume_path: target, staging_target_path: '' })).volume_condition?.abnormal ===
    true;
  const healthy = async (): Promise<boolean> =>
    (await volumeIssues()).length === 0 && !(await abnormal()) && (await storageIssues()).length === 0;

  before(async function () {
    this.timeout(90_000);
    d = await sharedDriver();
    const res = await d.client.controller.CreateVolume({
      name: id,
      volume_capabilities: [mountCap],
      capacity_range: { required_bytes: MiB, limit_bytes: 0 },
      parameters: {},
    });
    const ctx = res.volume?.volume_context ?? {};
    await d.client.node.NodeStageVolume({
      volume_id: id,
      staging_target_path: staging,
      volume_capability: mountCap,
      volume_context: ctx,
      publish_context: {},
      secrets: {},
    });
    await d.client.node.NodePublishVolume({
      volume_id: id,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap,
      readonly: false,
      volume_context: ctx,
      publish_context: {},
      secrets: {},
    });
    await writeThrough(`${target}/precious.txt`, data);
    await waitFor('volume healthy before the faults', 20_000, healthy);
  });

  after(async function () {
    this.timeout(90_000);
    // Leave the server running for whatever comes next, whatever happened here.
    const s = await faultCtl('status').catch(() => undefined);
    if (s?.output.includes('stopped')) await faultCtl('cont');
    if (s?.output.includes('down')) await faultCtl('restart');
  });

  it('reports MountUnresponsive within interval + timeout of a SIGSTOP, while Probe and capabilities still answer', async () => {
    assert.ok((await faultCtl('stop')).ok);
    const t0 = Date.now();
    const took = await waitFor(
      'MountUnresponsive',
      intervalMs + timeoutMs + slackMs + 5_000,
      async () => (await volumeIssues()).includes('MountUnresponsive'),
      100,
    );
    recordTiming('SIGSTOP -> MountUnresponsive', took);
    assert.ok(
      took <= intervalMs + timeoutMs + slackMs,
      `MountUnresponsive after ${took}ms (interval ${intervalMs} + timeout ${timeoutMs} + slack ${slackMs})`,
    );
    // Calls that do not touch storage keep working while the server is frozen.
    assert.equal((await d.client.identity.Probe({})).ready?.value, true);
    assert.ok((await d.client.controller.ControllerGetCapabilities({})).capabilities.length > 0);
    assert.ok((await d.client.node.NodeGetCapabilities({})).capabilities.length > 0);
    assert.equal((await d.client.node.NodeGetInfo({})).node_id, 'node-1');
    // The target's own probe may come a little after the staging path's.
    await waitFor('NodeGetVolumeStats abnormal', intervalMs + timeoutMs + slackMs + 5_000, abnormal, 100);
    await waitFor(
      'storage unreachable',
      intervalMs + timeoutMs + slackMs + 5_000,
      async () => (await storageIssues()).includes('ServerUnresponsive'),
      100,
    );
    recordTiming('SIGSTOP -> storage ServerUnresponsive', Date.now() - t0);
    // The v1.13 answer in full: the server is named unreachable, with a message for the operator.
    const storage = (await d.client.node.NodeGetStorageHealth({})).backend_health.find((s) => s.reason === 'ServerUnresponsive');
    assert.equal(storage?.status, 'STORAGE_UNREACHABLE');
    assert.ok((storage?.message ?? '').length > 0, 'the storage entry carries a message');
    // The controller cannot read the frozen share: it answers promptly that the volume is
    // abnormal because the share does not answer, instead of hanging or failing the call.
    const c0 = Date.now();
    const got = await d.client.controller.ControllerGetVolume({ volume_id: id });
    assert.equal(got.status?.volume_condition?.abnormal, true);
    assert.match(got.status.volume_condition.message, /ShareUnreachable/);
    const gh = await d.client.controller.ControllerGetVolumeHealth({ volume_id: id });
    assert.deepEqual(
      gh.volume_health?.health_statuses.map((x) => [x.status, x.reason]),
      [['INACCESSIBLE', 'ShareUnreachable']],
    );
    recordTiming('ControllerGetVolume on a frozen share -> ShareUnreachable', Date.now() - c0);
    // Calls that must change the share fail with UNAVAILABLE rather than hang.
    await expectCode(
      d.client.controller.CreateVolume({ name: 'pvc-while-frozen', volume_capabilities: [mountCap] }),
      grpc.status.UNAVAILABLE,
    );
  });

  it('is healthy again after SIGCONT, with the data intact', async () => {
    assert.ok((await faultCtl('cont')).ok);
    const took = await waitFor('healthy after SIGCONT', 30_000, healthy);
    recordTiming('SIGCONT -> healthy', took);
    assert.equal(await readThrough(`${target}/precious.txt`), data);
  });

  it('goes abnormal when ganesha is SIGKILLed and healthy again after a restart, data intact', async () => {
    assert.ok((await faultCtl('kill')).ok);
    const down = await waitFor('abnormal after SIGKILL', intervalMs + timeoutMs + slackMs + 5_000, abnormal, 100);
    recordTiming('SIGKILL -> abnormal', down);
    await waitFor('storage unreachable after SIGKILL', 15_000, async () => (await storageIssues()).includes('ServerUnreachable'));
    const t0 = Date.now();
    assert.ok((await faultCtl('restart')).ok);
    await waitFor('healthy after restart', 45_000, healthy);
    recordTiming('restart -> healthy', Date.now() - t0);
    // Healthy means every surface says so: the volume condition, the v1.13 entries and the storage.
    const stats = await d.client.node.NodeGetVolumeStats({ volume_id: id, volume_path: target, staging_target_path: '' });
    assert.equal(stats.volume_condition?.abnormal, false);
    assert.deepEqual(await volumeIssues(), []);
    assert.deepEqual(await storageIssues(), []);
    assert.equal(await readThrough(`${target}/precious.txt`), data);
    const after = `written after the restart\n`;
    await writeThrough(`${target}/after-restart.txt`, after);
    assert.equal(await readThrough(`${target}/after-restart.txt`), after);
    expectOnServer(`volumes/${id}/data/precious.txt`, data);
    expectOnServer(`volumes/${id}/data/after-restart.txt`, after);
    // The controller's share mount came back too.
    const vol = await d.client.controller.ControllerGetVolume({ volume_id: id });
    assert.equal(vol.status?.volume_condition?.abnormal ?? false, false);
  });

  it('unpublishes and unstages a hung mount (ganesha frozen) without hanging the RPC', async () => {
    assert.ok((await faultCtl('stop')).ok);
    await waitFor(
      'MountUnresponsive before unpublish',
      intervalMs + timeoutMs + slackMs + 5_000,
      async () => (await volumeIssues()).includes('MountUnresponsive'),
      100,
    );
    let t0 = Date.now();
    await d.client.node.NodeUnpublishVolume({ volume_id: id, target_path: target });
    recordTiming('NodeUnpublishVolume of a hung mount', Date.now() - t0);
    assert.equal(await isMounted(target), false, 'target is gone from the mount table');
    t0 = Date.now();
    await d.client.node.NodeUnstageVolume({ volume_id: id, staging_target_path: staging });
    recordTiming('NodeUnstageVolume of a hung mount', Date.now() - t0);
    assert.equal(await isMounted(staging), false, 'staging path is gone from the mount table');
    assert.ok((await faultCtl('cont')).ok);
  });
});
