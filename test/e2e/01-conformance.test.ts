import { strict as assert } from 'node:assert';
import { expectCode, grpc } from '../helpers/csiClient';
import { describeInGuest, mountCap, mountSource, nfsServer, nfsShare, sharedDriver, workRoot, type E2eDriver } from './e2eHarness';

const MiB = 1024 ** 2;
const req = (name: string, bytes = MiB, parameters: Record<string, string> = {}) => ({
  name,
  volume_capabilities: [mountCap],
  capacity_range: { required_bytes: bytes, limit_bytes: 0 },
  parameters,
});

describeInGuest('e2e conformance subset on --backend nfs (ganesha over NFSv4.1)', function () {
  let d: E2eDriver;
  before(async function () {
    this.timeout(90_000);
    d = await sharedDriver();
  });
  const c = () => d.client.controller;

  it('is ready and names its controller capabilities', async () => {
    assert.equal((await d.client.identity.Probe({})).ready?.value, true);
    const caps = (await c().ControllerGetCapabilities({})).capabilities.map((x) => x.rpc?.type);
    for (const want of ['CREATE_DELETE_VOLUME', 'LIST_VOLUMES', 'GET_CAPACITY', 'CREATE_DELETE_SNAPSHOT'])
      assert.ok(caps.includes(want as never), `${want} in ${caps.join(',')}`);
  });

  it('creates a volume on the share, idempotently by name, and refuses the same name with another size', async () => {
    const a = await c().CreateVolume(req('pvc-e2e-conf-a'));
    assert.equal(a.volume?.volume_id, 'pvc-e2e-conf-a');
    assert.equal(a.volume?.volume_context.backend, 'nfs');
    assert.equal(a.volume?.volume_context.volumeDir, 'volumes/pvc-e2e-conf-a/data');
    const again = await c().CreateVolume(req('pvc-e2e-conf-a'));
    assert.deepEqual(again.volume, a.volume);
    await expectCode(
      c().CreateVolume({ ...req('pvc-e2e-conf-a', 4 * MiB), capacity_range: { required_bytes: 4 * MiB, limit_bytes: 4 * MiB } }),
      grpc.status.ALREADY_EXISTS,
    );
  });

  it('keeps the share root mounted at its private work dir under --state-dir', async () => {
    assert.equal(await mountSource(`${workRoot}/state/nfs-share-root`), `${nfsServer}:${nfsShare}`);
  });

  it('lists volumes, with paging', async () => {
    await c().CreateVolume(req('pvc-e2e-conf-b'));
    const all = await c().ListVolumes({ max_entries: 0, starting_token: '' });
    const ids = all.entries.map((e) => e.volume?.volume_id);
    assert.ok(ids.includes('pvc-e2e-conf-a') && ids.includes('pvc-e2e-conf-b'), ids.join(','));
    const first = await c().ListVolumes({ max_entries: 1, starting_token: '' });
    assert.equal(first.entries.length, 1);
    assert.ok(first.next_token);
    const second = await c().ListVolumes({ max_entries: 1, starting_token: first.next_token });
    assert.notEqual(second.entries[0]?.volume?.volume_id, first.entries[0]?.volume?.volume_id);
  });

  it('reports the share capacity from the NFS mount', async () => {
    const cap = await c().GetCapacity({ volume_capabilities: [mountCap], parameters: {} });
    assert.ok(Number(cap.available_capacity) > 0, `available ${cap.available_capacity}`);
    assert.ok(Number(cap.maximum_volume_size?.value) >= Number(cap.available_capacity));
  });

  it('creates, lists and deletes snapshots idempotently', async () => {
    const s1 = await c().CreateSnapshot({ source_volume_id: 'pvc-e2e-conf-a', name: 'snap-e2e-conf', secrets: {}, parameters: {} });
    const id = s1.snapshot?.snapshot_id ?? '';
    assert.ok(id);
    assert.equal(s1.snapshot?.ready_to_use, true);
    const s2 = await c().CreateSnapshot({ source_volume_id: 'pvc-e2e-conf-a', name: 'snap-e2e-conf', secrets: {}, parameters: {} });
    assert.equal(s2.snapshot?.snapshot_id, id);
    const listed = await c().ListSnapshots({
      max_entries: 0,
      starting_token: '',
      source_volume_id: 'pvc-e2e-conf-a',
      snapshot_id: '',
      secrets: {},
    });
    assert.deepEqual(
      listed.entries.map((e) => e.snapshot?.snapshot_id),
      [id],
    );
    await c().DeleteSnapshot({ snapshot_id: id, secrets: {} });
    await c().DeleteSnapshot({ snapshot_id: id, secrets: {} });
    const after = await c().ListSnapshots({ max_entries: 0, starting_token: '', source_volume_id: '', snapshot_id: id, secrets: {} });
    assert.equal(after.entries.length, 0);
  });

  it('deletes volumes idempotently; a deleted volume is NOT_FOUND', async () => {
    for (const id of ['pvc-e2e-conf-a', 'pvc-e2e-conf-b']) {
      await c().DeleteVolume({ volume_id: id, secrets: {} });
      await c().DeleteVolume({ volume_id: id, secrets: {} });
      await expectCode(c().ControllerGetVolume({ volume_id: id }), grpc.status.NOT_FOUND);
    }
    const ids = (await c().ListVolumes({ max_entries: 0, starting_token: '' })).entries.map((e) => e.volume?.volume_id);
    assert.ok(!ids.includes('pvc-e2e-conf-a'));
  });

  it('answers NOT_FOUND for unknown volumes and snapshots', async () => {
    await expectCode(
      c().CreateVolume({ ...req('pvc-e2e-from-nothing'), volume_content_source: { snapshot: { snapshot_id: 'snap-missing' } } }),
      grpc.status.NOT_FOUND,
    );
    await expectCode(
      c().CreateSnapshot({ source_volume_id: 'pvc-missing', name: 'snap-of-nothing', secrets: {}, parameters: {} }),
      grpc.status.NOT_FOUND,
    );
    await expectCode(
      d.client.node.NodeGetVolumeStats({ volume_id: 'pvc-missing', volume_path: '/tmp/csi-e2e/nowhere', staging_target_path: '' }),
      grpc.status.NOT_FOUND,
    );
  });

  it('answers INVALID_ARGUMENT for missing fields and mount options off the allowlist', async () => {
    await expectCode(c().CreateVolume({ ...req(''), name: '' }), grpc.status.INVALID_ARGUMENT);
    await expectCode(c().CreateVolume({ ...req('pvc-e2e-nocap'), volume_capabilities: [] }), grpc.status.INVALID_ARGUMENT);
    await expectCode(c().CreateVolume(req('pvc-e2e-badopt', MiB, { mountOptions: 'hard,bg' })), grpc.status.INVALID_ARGUMENT);
    await expectCode(c().DeleteVolume({ volume_id: '', secrets: {} }), grpc.status.INVALID_ARGUMENT);
    await expectCode(
      d.client.node.NodeStageVolume({
        volume_id: 'pvc-x',
        staging_target_path: '',
        volume_capability: mountCap,
        volume_context: {},
        publish_context: {},
        secrets: {},
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      d.client.node.NodeStageVolume({
        volume_id: 'pvc-x',
        staging_target_path: '/tmp/csi-e2e/staging/x',
        volume_capability: { ...mountCap, mount: { fs_type: 'nfs4', mount_flags: ['sec=sys,port=1'] } },
        volume_context: { backend: 'nfs', volumeDir: 'volumes/pvc-x/data' },
        publish_context: {},
        secrets: {},
      }),
      grpc.status.INVALID_ARGUMENT,
    );
  });
});
