import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, listTree, stopAndClean } from './conformanceKit';

describe('conformance: GroupController (volume group snapshots)', () => {
  let d: DriverProcess;
  let a: string;
  let b: string;
  let other: string;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    a = await createVolume(d.client, 'pvc-group-a', GiB);
    b = await createVolume(d.client, 'pvc-group-b', GiB);
    other = await createVolume(d.client, 'pvc-group-other', GiB);
    writeFileSync(path.join(dataDir(a), 'a.txt'), 'from volume a\n');
    mkdirSync(path.join(dataDir(b), 'sub'));
    writeFileSync(path.join(dataDir(b), 'sub', 'b.txt'), 'from volume b\n');
  });
  after(() => stopAndClean(d));
  const g = () => d.client.group;
  const c = () => d.client.controller;
  function dataDir(id: string): string {
    return path.join(d.dirs.share, 'volumes', id, 'data');
  }

  it('advertises CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT and the GROUP_CONTROLLER_SERVICE plugin capability', async () => {
    const caps = await g().GroupControllerGetCapabilities({});
    assert.deepEqual(
      caps.capabilities.map((x) => x.rpc?.type),
      ['CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT'],
    );
    const plugin = await d.client.identity.GetPluginCapabilities({});
    assert.ok(plugin.capabilities.some((x) => x.service?.type === 'GROUP_CONTROLLER_SERVICE'));
  });

  it('creates a ready group snapshot with one member per volume, each naming the group, archived on the share', async () => {
    const res = await g().CreateVolumeGroupSnapshot({ name: 'group-1', source_volume_ids: [a, b] });
    const gs = res.group_snapshot!;
    assert.ok(gs.group_snapshot_id);
    assert.equal(gs.ready_to_use, true);
    assert.ok(Number(gs.creation_time?.seconds) > 0);
    assert.deepEqual(gs.snapshots.map((s) => s.source_volume_id).sort(), [a, b].sort());
    for (const s of gs.snapshots) {
      assert.equal(s.group_snapshot_id, gs.group_snapshot_id);
      assert.equal(s.ready_to_use, true);
      assert.ok(existsSync(path.join(d.dirs.share, 'snapshots', s.snapshot_id, 'data.tar.gz')));
      // Members are ordinary snapshots: GetSnapshot and ListSnapshots name the group too.
      const one = await c().GetSnapshot({ snapshot_id: s.snapshot_id });
      assert.equal(one.snapshot?.group_snapshot_id, gs.group_snapshot_id);
      const listed = await c().ListSnapshots({ snapshot_id: s.snapshot_id });
      assert.equal(listed.entries[0]?.snapshot?.group_snapshot_id, gs.group_snapshot_id);
    }
    const rec = JSON.parse(readFileSync(path.join(d.dirs.share, 'groupsnapshots', gs.group_snapshot_id, 'groupsnapshot.json'), 'utf8')) as {
      complete: boolean;
    };
    assert.equal(rec.complete, true);
  });

  it('is idempotent by name for the same source volumes, in any order', async () => {
    const first = await g().CreateVolumeGroupSnapshot({ name: 'group-twice', source_volume_ids: [a, b] });
    const tree = listTree(d.dirs.share);
    const again = await g().CreateVolumeGroupSnapshot({ name: 'group-twice', source_volume_ids: [b, a] });
    assert.equal(again.group_snapshot?.group_snapshot_id, first.group_snapshot?.group_snapshot_id);
    assert.deepEqual(
      again.group_snapshot?.snapshots.map((s) => s.snapshot_id).sort(),
      first.group_snapshot?.snapshots.map((s) => s.snapshot_id).sort(),
    );
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('returns ALREADY_EXISTS for the same name with other source volumes', async () => {
    await g().CreateVolumeGroupSnapshot({ name: 'group-taken', source_volume_ids: [a] });
    await expectCode(g().CreateVolumeGroupSnapshot({ name: 'group-taken', source_volume_ids: [a, other] }), grpc.status.ALREADY_EXISTS);
  });

  it('returns INVALID_ARGUMENT for missing or malformed fields, and makes nothing', async () => {
    const tree = listTree(d.dirs.share);
    await expectCode(g().CreateVolumeGroupSnapshot({ name: '', source_volume_ids: [a] }), grpc.status.INVALID_ARGUMENT);
    await expectCode(g().CreateVolumeGroupSnapshot({ name: 'group-no-sources', source_volume_ids: [] }), grpc.status.INVALID_ARGUMENT);
    await expectCode(g().CreateVolumeGroupSnapshot({ name: 'group-dup', source_volume_ids: [a, a] }), grpc.status.INVALID_ARGUMENT);
    await expectCode(
      g().CreateVolumeGroupSnapshot({ name: 'group-escape', source_volume_ids: ['../../etc'] }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      g().CreateVolumeGroupSnapshot({ name: 'group-param', source_volume_ids: [a], parameters: { foo: 'bar' } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(g().GetVolumeGroupSnapshot({ group_snapshot_id: '' }), grpc.status.INVALID_ARGUMENT);
    await expectCode(g().DeleteVolumeGroupSnapshot({ group_snapshot_id: '' }), grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('returns NOT_FOUND for an unknown source volume, and archives nothing', async () => {
    const tree = listTree(d.dirs.share);
    await expectCode(
      g().CreateVolumeGroupSnapshot({ name: 'group-of-nothing', source_volume_ids: [a, 'no-such-volume'] }),
      grpc.status.NOT_FOUND,
    );
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('GetVolumeGroupSnapshot returns the group, NOT_FOUND for an unknown id, INVALID_ARGUMENT for snapshot_ids not its own', async () => {
    const created = (await g().CreateVolumeGroupSnapshot({ name: 'group-get', source_volume_ids: [a, b] })).group_snapshot!;
    const got = (await g().GetVolumeGroupSnapshot({ group_snapshot_id: created.group_snapshot_id })).group_snapshot!;
    assert.equal(got.group_snapshot_id, created.group_snapshot_id);
    assert.deepEqual(got.snapshots.map((s) => s.snapshot_id).sort(), created.snapshots.map((s) => s.snapshot_id).sort());
    const ids = created.snapshots.map((s) => s.snapshot_id);
    await g().GetVolumeGroupSnapshot({ group_snapshot_id: created.group_snapshot_id, snapshot_ids: [...ids].reverse() });
    await expectCode(
      g().GetVolumeGroupSnapshot({ group_snapshot_id: created.group_snapshot_id, snapshot_ids: [ids[0]!] }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(g().GetVolumeGroupSnapshot({ group_snapshot_id: 'no-such-group' }), grpc.status.NOT_FOUND);
    // An id this driver could never have made names no group, and reaches no path.
    await expectCode(g().GetVolumeGroupSnapshot({ group_snapshot_id: '../../snapshots' }), grpc.status.NOT_FOUND);
  });

  it("restores each member into a new volume with that volume's data", async () => {
    const gs = (await g().CreateVolumeGroupSnapshot({ name: 'group-restore', source_volume_ids: [a, b] })).group_snapshot!;
    for (const s of gs.snapshots) {
      const res = await c().CreateVolume({
        name: `pvc-restored-${s.source_volume_id}`,
        volume_capabilities: [{ access_mode: { mode: 'SINGLE_NODE_WRITER' }, mount: { fs_type: '', mount_flags: [] } }],
        volume_content_source: { snapshot: { snapshot_id: s.snapshot_id } },
      });
      const restored = dataDir(res.volume!.volume_id);
      if (s.source_volume_id === a) assert.equal(readFileSync(path.join(restored, 'a.txt'), 'utf8'), 'from volume a\n');
      else assert.equal(readFileSync(path.join(restored, 'sub', 'b.txt'), 'utf8'), 'from volume b\n');
    }
  });

  it('refuses DeleteSnapshot of a member while its group exists (FAILED_PRECONDITION), and keeps it', async () => {
    const gs = (await g().CreateVolumeGroupSnapshot({ name: 'group-member-delete', source_volume_ids: [a] })).group_snapshot!;
    const member = gs.snapshots[0]!.snapshot_id;
    await expectCode(c().DeleteSnapshot({ snapshot_id: member }), grpc.status.FAILED_PRECONDITION);
    assert.ok(existsSync(path.join(d.dirs.share, 'snapshots', member, 'snapshot.json')));
  });

  it('DeleteVolumeGroupSnapshot removes the group and its members; mismatched snapshot_ids delete nothing; an unknown id is OK', async () => {
    const gs = (await g().CreateVolumeGroupSnapshot({ name: 'group-delete', source_volume_ids: [a, b] })).group_snapshot!;
    const ids = gs.snapshots.map((s) => s.snapshot_id);
    await expectCode(
      g().DeleteVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id, snapshot_ids: [ids[0]!, 'not-a-member'] }),
      grpc.status.INVALID_ARGUMENT,
    );
    for (const id of ids) assert.ok(existsSync(path.join(d.dirs.share, 'snapshots', id)));
    await g().DeleteVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id, snapshot_ids: ids });
    for (const id of ids) assert.equal(existsSync(path.join(d.dirs.share, 'snapshots', id)), false);
    assert.equal(existsSync(path.join(d.dirs.share, 'groupsnapshots', gs.group_snapshot_id)), false);
    await expectCode(g().GetVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id }), grpc.status.NOT_FOUND);
    await g().DeleteVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id, snapshot_ids: ids });
    await g().DeleteVolumeGroupSnapshot({ group_snapshot_id: 'never-existed' });
    const tree = listTree(d.dirs.share);
    await g().DeleteVolumeGroupSnapshot({ group_snapshot_id: '..' });
    await g().DeleteVolumeGroupSnapshot({ group_snapshot_id: '../snapshots' });
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('finishes a group left incomplete by a crash: the retry redoes its members, a delete removes them', async () => {
    const gs = (await g().CreateVolumeGroupSnapshot({ name: 'group-crash', source_volume_ids: [a, b] })).group_snapshot!;
    const file = path.join(d.dirs.share, 'groupsnapshots', gs.group_snapshot_id, 'groupsnapshot.json');
    // As if the controller died after archiving one member: the record says incomplete, the other member is gone.
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { complete: boolean; snapshotIds: string[] };
    writeFileSync(file, JSON.stringify({ ...rec, complete: false }));
    const lost = rec.snapshotIds[1]!;
    const { rmSync } = await import('node:fs');
    rmSync(path.join(d.dirs.share, 'snapshots', lost), { recursive: true });
    await expectCode(g().GetVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id }), grpc.status.NOT_FOUND);
    const redone = (await g().CreateVolumeGroupSnapshot({ name: 'group-crash', source_volume_ids: [a, b] })).group_snapshot!;
    assert.equal(redone.group_snapshot_id, gs.group_snapshot_id);
    assert.ok(existsSync(path.join(d.dirs.share, 'snapshots', lost, 'snapshot.json')));
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { complete: boolean }).complete, true);
    writeFileSync(file, JSON.stringify({ ...rec, complete: false }));
    await g().DeleteVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id });
    for (const id of rec.snapshotIds) assert.equal(existsSync(path.join(d.dirs.share, 'snapshots', id)), false);
  });

  it('answers DATA_LOSS (corrupt metadata, as for volumes), not INTERNAL, for a corrupt group record', async () => {
    const gs = (await g().CreateVolumeGroupSnapshot({ name: 'group-corrupt', source_volume_ids: [a] })).group_snapshot!;
    writeFileSync(path.join(d.dirs.share, 'groupsnapshots', gs.group_snapshot_id, 'groupsnapshot.json'), '{"id": 5');
    await expectCode(g().GetVolumeGroupSnapshot({ group_snapshot_id: gs.group_snapshot_id }), grpc.status.DATA_LOSS);
  });
});
