import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { expectCode, grpc } from '../helpers/csiClient';
import {
  describeInGuest,
  isMounted,
  mountCap,
  mountSource,
  nfsServer,
  nfsShare,
  readThrough,
  recordTiming,
  run,
  sharedDriver,
  waitFor,
  workRoot,
  writeThrough,
  type E2eDriver,
} from './e2eHarness';

const MiB = 1024 ** 2;

describeInGuest('e2e volume lifecycle on a real NFSv4.1 mount', function () {
  this.timeout(120_000);
  let d: E2eDriver;
  const id = 'pvc-e2e-life';
  const staging = `${workRoot}/staging/${id}`;
  const targetA = `${workRoot}/pods/a/volumes/${id}/mount`;
  const targetB = `${workRoot}/pods/b/volumes/${id}/mount`;
  const targetRo = `${workRoot}/pods/c/volumes/${id}/mount`;
  let context: Record<string, string> = {};
  before(async function () {
    this.timeout(90_000);
    d = await sharedDriver();
  });
  const n = () => d.client.node;
  const stage = () =>
    n().NodeStageVolume({
      volume_id: id,
      staging_target_path: staging,
      volume_capability: mountCap,
      volume_context: context,
      publish_context: {},
      secrets: {},
    });
  const publish = (target: string, readonly = false) =>
    n().NodePublishVolume({
      volume_id: id,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap,
      readonly,
      volume_context: context,
      publish_context: {},
      secrets: {},
    });

  it('creates a volume with StorageClass mount options and stages it with mount -t nfs4 from the server', async () => {
    const res = await d.client.controller.CreateVolume({
      name: id,
      volume_capabilities: [mountCap],
      capacity_range: { required_bytes: MiB, limit_bytes: 0 },
      parameters: { mountOptions: 'hard,noatime' },
    });
    context = res.volume?.volume_context ?? {};
    assert.equal(context.mountOptions, 'hard,noatime');
    const t0 = Date.now();
    await stage();
    recordTiming('NodeStageVolume (nfs mount)', Date.now() - t0);
    assert.equal(await mountSource(staging), `${nfsServer}:${nfsShare}/volumes/${id}/data`);
    const opts = (await run('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', staging])).stdout;
    assert.match(opts, /^nfs4 /);
    assert.match(opts, /vers=4\.1/);
    assert.match(opts, /noatime/);
    assert.match(opts, /nosharecache/, 'a superblock of its own');
    await stage();
  });

  it('publishes into two targets; data written through one is read through the other', async () => {
    await publish(targetA);
    await publish(targetB);
    await publish(targetA);
    assert.ok((await isMounted(targetA)) && (await isMounted(targetB)));
    assert.equal(await mountSource(targetB), `${nfsServer}:${nfsShare}/volumes/${id}/data`);
    const data = `written through A at ${new Date().toISOString()}\n`;
    await writeThrough(`${targetA}/hello.txt`, data);
    assert.equal(await readThrough(`${targetB}/hello.txt`), data);
  });

  it('stages a static NFS volume from volume_context share and subDir', async () => {
    const staticId = 'static-e2e-nfs';
    const staticStaging = `${workRoot}/staging/${staticId}`;
    const ctx = { share: `${nfsShare}/volumes/${id}`, subDir: 'data', mountOptions: 'nconnect=2' };
    await n().NodeStageVolume({
      volume_id: staticId,
      staging_target_path: staticStaging,
      volume_capability: mountCap,
      volume_context: ctx,
      publish_context: {},
      secrets: {},
    });
    assert.equal(await mountSource(staticStaging), `${nfsServer}:${nfsShare}/volumes/${id}/data`);
    assert.match(await readThrough(`${staticStaging}/hello.txt`), /written through A/);
    await n().NodeUnstageVolume({ volume_id: staticId, staging_target_path: staticStaging });
    assert.equal(await isMounted(staticStaging), false);
    await expectCode(
      n().NodeStageVolume({
        volume_id: 'static-e2e-bad',
        staging_target_path: staticStaging,
        volume_capability: mountCap,
        volume_context: { share: nfsShare, subDir: '../..' },
        publish_context: {},
        secrets: {},
      }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('honours readonly on publish', async () => {
    await publish(targetRo, true);
    assert.equal(await readThrough(`${targetRo}/hello.txt`), await readThrough(`${targetA}/hello.txt`));
    const w = await run('sh', ['-c', `echo x > ${targetRo}/nope.txt`]);
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /Read-only file system/);
    await expectCode(publish(targetRo, false), grpc.status.ALREADY_EXISTS);
    // The same publish again succeeds (and clears the failure NodeGetVolumeHealth remembers).
    await publish(targetRo, true);
  });

  it('reports usage and a normal condition once probed', async () => {
    await waitFor('first probes of the target', 20_000, async () => {
      const v = await n().NodeGetVolumeHealth({ volume_id: id, volume_publish_path: targetA, staging_target_path: '' });
      return (v.volume_health?.health_statuses.length ?? 1) === 0;
    });
    const stats = await n().NodeGetVolumeStats({ volume_id: id, volume_path: targetA, staging_target_path: '' });
    assert.ok(Number(stats.usage[0]?.total) > 0);
    assert.equal(stats.volume_condition?.abnormal, false);
  });

  it("mounts the staging path again when it vanished behind the driver's back", async () => {
    assert.equal((await run('umount', ['-l', staging])).code, 0);
    const took = await waitFor('NotMounted reported', 15_000, async () => {
      const v = await n().NodeGetVolumeHealth({ volume_id: id, volume_publish_path: '', staging_target_path: staging });
      return (v.volume_health?.health_statuses ?? []).some((s) => s.reason === 'NotMounted');
    });
    recordTiming('staging NotMounted detected', took);
    await stage();
    assert.equal(await mountSource(staging), `${nfsServer}:${nfsShare}/volumes/${id}/data`);
    assert.match(await readThrough(`${staging}/hello.txt`), /written through A/);
  });

  it('unpublishes, unstages and deletes, leaving no mount and no target directory', async () => {
    for (const t of [targetA, targetB, targetRo]) {
      await n().NodeUnpublishVolume({ volume_id: id, target_path: t });
      await n().NodeUnpublishVolume({ volume_id: id, target_path: t });
      assert.equal(await isMounted(t), false);
      assert.equal(existsSync(t), false, `${t} removed`);
    }
    await n().NodeUnstageVolume({ volume_id: id, staging_target_path: staging });
    await n().NodeUnstageVolume({ volume_id: id, staging_target_path: staging });
    assert.equal(await isMounted(staging), false);
    await d.client.controller.DeleteVolume({ volume_id: id, secrets: {} });
    await expectCode(d.client.controller.ControllerGetVolume({ volume_id: id }), grpc.status.NOT_FOUND);
  });
});
