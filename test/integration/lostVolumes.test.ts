import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';

const cap = [{ access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' as const }, mount: {} }];

/** One kind of out-of-band damage: how to do it, what must be reported, and how to repair it (if it can be). */
interface Damage {
  name: string;
  volume: string;
  damage: (share: string, id: string) => void;
  status: 'INACCESSIBLE' | 'DATA_LOSS';
  reason: string;
  message: (id: string) => string;
  repair?: (share: string, id: string) => void;
}

const stash = new Map<string, string>();

const damages: Damage[] = [
  {
    name: 'a vanished volume directory',
    volume: 'pvc-lost-dir',
    damage: (share, id) => renameSync(path.join(share, 'volumes', id), path.join(share, `moved-${id}`)),
    status: 'INACCESSIBLE',
    reason: 'VolumeNotFound',
    message: (id) => `the directory volumes/${id} of volume ${id} is gone from the share`,
    repair: (share, id) => renameSync(path.join(share, `moved-${id}`), path.join(share, 'volumes', id)),
  },
  {
    name: 'a missing data/',
    volume: 'pvc-lost-data',
    damage: (share, id) => rmSync(path.join(share, 'volumes', id, 'data'), { recursive: true }),
    status: 'DATA_LOSS',
    reason: 'DataDirectoryMissing',
    message: (id) => `data/ of volume ${id} is missing`,
    repair: (share, id) => mkdirSync(path.join(share, 'volumes', id, 'data'), { mode: 0o777 }),
  },
  {
    name: 'volume.json that is not JSON',
    volume: 'pvc-bad-json',
    damage: (share, id) => {
      const file = path.join(share, 'volumes', id, 'volume.json');
      stash.set(id, readFileSync(file, 'utf8'));
      writeFileSync(file, '{"id": "pvc-bad-json", "name": ');
    },
    status: 'DATA_LOSS',
    reason: 'MetadataCorrupt',
    message: (id) => `volumes/${id}/volume.json of volume ${id} is not valid JSON`,
    repair: (share, id) => writeFileSync(path.join(share, 'volumes', id, 'volume.json'), stash.get(id)!),
  },
  {
    name: 'volume.json that is JSON but not a volume record',
    volume: 'pvc-bad-record',
    damage: (share, id) => {
      const file = path.join(share, 'volumes', id, 'volume.json');
      const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...rec, capacityBytes: -5 }));
    },
    status: 'DATA_LOSS',
    reason: 'MetadataCorrupt',
    message: (id) => `volumes/${id}/volume.json of volume ${id} is invalid: capacityBytes`,
  },
  {
    name: 'a missing volume.json',
    volume: 'pvc-no-json',
    damage: (share, id) => rmSync(path.join(share, 'volumes', id, 'volume.json')),
    status: 'DATA_LOSS',
    reason: 'MetadataCorrupt',
    message: (id) => `volumes/${id}/volume.json of volume ${id} is missing`,
  },
];

describe('lost and corrupt volumes stay visible until repaired or deleted', function () {
  this.timeout(180_000);
  let d: DriverProcess;
  const ids = new Map<string, string>();

  before(async () => {
    d = await startDriverProcess();
    for (const x of damages) {
      const { volume } = await d.client.controller.CreateVolume({
        name: x.volume,
        volume_capabilities: cap,
        capacity_range: { required_bytes: '1048576' },
      });
      ids.set(x.name, volume!.volume_id);
    }
    // A healthy neighbour, which must stay healthy and listed throughout.
    await d.client.controller.CreateVolume({ name: 'pvc-fine', volume_capabilities: cap });
    for (const x of damages) x.damage(d.dirs.share, ids.get(x.name)!);
  });
  after(async () => stopAndClean(d));

  /** Every controller surface reports the damage, with its reason, status and exact message. */
  async function assertReported(x: Damage): Promise<void> {
    const id = ids.get(x.name)!;
    const expected = x.message(id);
    const got = await d.client.controller.ControllerGetVolume({ volume_id: id });
    assert.equal(got.volume?.volume_id, id);
    assert.equal(got.status?.volume_condition?.abnormal, true, `${x.name}: ControllerGetVolume abnormal`);
    assert.ok(
      got.status.volume_condition.message.includes(`${x.reason}: ${expected}`),
      `${x.name}: ${got.status.volume_condition.message}`,
    );

    const list = await d.client.controller.ListVolumes({});
    const entry = list.entries.find((e) => e.volume?.volume_id === id);
    assert.ok(entry, `${x.name}: still listed by ListVolumes`);
    assert.equal(entry.status?.volume_condition?.abnormal, true);
    assert.ok(entry.status.volume_condition.message.includes(expected));

    const h = await d.client.controller.ControllerGetVolumeHealth({ volume_id: id });
    const pairs = h.volume_health!.health_statuses.map((s) => `${s.status}/${s.reason}`);
    assert.ok(pairs.includes(`${x.status}/${x.reason}`), `${x.name}: ControllerGetVolumeHealth gave ${pairs.join(', ')}`);
    assert.ok(h.volume_health!.health_statuses.some((s) => s.message.includes(expected)));

    const sick = await d.client.controller.ControllerListVolumeHealth({});
    const listed = sick.entries.find((e) => e.volume_id === id);
    assert.ok(listed, `${x.name}: listed by ControllerListVolumeHealth`);
    assert.ok(listed.health_statuses.some((s) => s.status === x.status && s.reason === x.reason));
  }

  it('reports each damage on ListVolumes, ControllerGetVolume and both v1.13 RPCs, each with its own reason and message', async () => {
    for (const x of damages) await assertReported(x);
    const list = await d.client.controller.ListVolumes({});
    const fine = list.entries.find((e) => e.volume?.volume_id === 'pvc-fine');
    assert.equal(fine?.status?.volume_condition?.abnormal, false, 'the healthy neighbour stays healthy');
    const sick = await d.client.controller.ControllerListVolumeHealth({});
    assert.deepEqual(sick.entries.map((e) => e.volume_id).sort(), [...ids.values()].sort(), 'only the damaged volumes have conditions');
  });

  it('still answers the capacity of a volume whose volume.json is gone, from its registry entry', async () => {
    const got = await d.client.controller.ControllerGetVolume({ volume_id: ids.get('a missing volume.json')! });
    assert.equal(got.volume?.capacity_bytes, '1048576');
  });

  it('keeps NOT_FOUND for ids the driver never made', async () => {
    await expectCode(d.client.controller.ControllerGetVolume({ volume_id: 'pvc-never-made' }), grpc.status.NOT_FOUND);
    await expectCode(d.client.controller.ControllerGetVolumeHealth({ volume_id: 'pvc-never-made' }), grpc.status.NOT_FOUND);
  });

  it('refuses to expand, snapshot or clone a damaged volume with FAILED_PRECONDITION (or DATA_LOSS), not NOT_FOUND or INTERNAL', async () => {
    const id = ids.get('a vanished volume directory')!;
    await expectCode(
      d.client.controller.ControllerExpandVolume({ volume_id: id, capacity_range: { required_bytes: '2097152' } }),
      grpc.status.FAILED_PRECONDITION,
    );
    await expectCode(d.client.controller.CreateSnapshot({ name: 'snap-of-lost', source_volume_id: id }), grpc.status.FAILED_PRECONDITION);
    await expectCode(
      d.client.controller.CreateVolume({
        name: 'pvc-clone-of-lost',
        volume_capabilities: cap,
        volume_content_source: { volume: { volume_id: id } },
      }),
      grpc.status.FAILED_PRECONDITION,
    );
    assert.ok(!existsSync(path.join(d.dirs.share, 'volumes', 'pvc-clone-of-lost')), 'nothing was made');
    const corrupt = ids.get('volume.json that is not JSON')!;
    const err = await expectCode(
      d.client.controller.ControllerExpandVolume({ volume_id: corrupt, capacity_range: { required_bytes: '2097152' } }),
      grpc.status.DATA_LOSS,
    );
    assert.match(err.details, /volume.json is not valid JSON/);
  });

  it('reports the same after a controller restart', async () => {
    await d.stop();
    d = await startDriverProcess([], d.dirs);
    for (const x of damages) await assertReported(x);
  });

  it('clears a damage once it is repaired', async () => {
    for (const x of damages.filter((y) => y.repair)) {
      x.repair!(d.dirs.share, ids.get(x.name)!);
      const id = ids.get(x.name)!;
      const got = await d.client.controller.ControllerGetVolume({ volume_id: id });
      assert.deepEqual(got.status?.volume_condition, { abnormal: false, message: 'volume is healthy' }, `${x.name} repaired`);
      const h = await d.client.controller.ControllerGetVolumeHealth({ volume_id: id });
      assert.deepEqual(h.volume_health?.health_statuses, []);
      const sick = await d.client.controller.ControllerListVolumeHealth({});
      assert.ok(!sick.entries.some((e) => e.volume_id === id));
    }
  });

  it('forgets a damaged volume once DeleteVolume succeeds: NOT_FOUND, not listed, registry entry gone', async () => {
    for (const x of damages) {
      const id = ids.get(x.name)!;
      await d.client.controller.DeleteVolume({ volume_id: id });
      await expectCode(d.client.controller.ControllerGetVolume({ volume_id: id }), grpc.status.NOT_FOUND);
      assert.ok(!existsSync(path.join(d.dirs.share, 'registry', 'volumes', `${id}.json`)));
      assert.ok(!existsSync(path.join(d.dirs.share, 'volumes', id)));
    }
    const list = await d.client.controller.ListVolumes({});
    assert.deepEqual(
      list.entries.map((e) => e.volume?.volume_id),
      ['pvc-fine'],
    );
    const sick = await d.client.controller.ControllerListVolumeHealth({});
    assert.deepEqual(sick.entries, []);
  });

  it('lists and registers at start a volume made before the registry existed', async () => {
    const { volume } = await d.client.controller.CreateVolume({ name: 'pvc-old', volume_capabilities: cap });
    const id = volume!.volume_id;
    const entry = path.join(d.dirs.share, 'registry', 'volumes', `${id}.json`);
    rmSync(entry);
    const before = await d.client.controller.ListVolumes({});
    assert.ok(
      before.entries.some((e) => e.volume?.volume_id === id),
      'listed from its directory',
    );
    await d.stop();
    d = await startDriverProcess([], d.dirs);
    assert.ok(existsSync(entry), 'registered at start');
    rmSync(path.join(d.dirs.share, 'volumes', id), { recursive: true });
    const got = await d.client.controller.ControllerGetVolume({ volume_id: id });
    assert.equal(got.status?.volume_condition?.abnormal, true, 'and now known even with its directory gone');
  });
});
