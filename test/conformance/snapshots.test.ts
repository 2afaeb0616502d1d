import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, listTree, volumeRequest, stopAndClean } from './conformanceKit';

describe('conformance: snapshots, restore and clone (--health-api v1.12)', () => {
  let d: DriverProcess;
  let sourceId: string;
  let otherId: string;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    sourceId = await createVolume(d.client, 'pvc-snap-source', GiB);
    otherId = await createVolume(d.client, 'pvc-snap-other', GiB);
    const data = dataDir(sourceId);
    mkdirSync(path.join(data, 'nested', 'deeper'), { recursive: true });
    writeFileSync(path.join(data, 'hello.txt'), 'hello from the source volume\n');
    writeFileSync(path.join(data, 'nested', 'deeper', 'blob.bin'), Buffer.alloc(64 * 1024, 7));
    writeFileSync(path.join(data, 'script.sh'), '#!/bin/sh\n', { mode: 0o750 });
  });
  after(() => stopAndClean(d));
  const c = () => d.client.controller;
  function dataDir(id: string): string {
    return path.join(d.dirs.share, 'volumes', id, 'data');
  }
  const snapshotDir = (id: string) => path.join(d.dirs.share, 'snapshots', id);

  it('creates a ready snapshot with size, creation time and source, archived on the share', async () => {
    const res = await c().CreateSnapshot({ name: 'snap-1', source_volume_id: sourceId });
    const s = res.snapshot!;
    assert.ok(s.snapshot_id);
    assert.equal(s.source_volume_id, sourceId);
    assert.equal(s.ready_to_use, true);
    assert.ok(Number(s.size_bytes) > 0);
    assert.ok(Number(s.creation_time?.seconds) > 0);
    assert.ok(existsSync(path.join(snapshotDir(s.snapshot_id), 'snapshot.json')));
  });

  it('is idempotent by name for the same source volume', async () => {
    const a = await c().CreateSnapshot({ name: 'snap-twice', source_volume_id: sourceId });
    const tree = listTree(d.dirs.share);
    const b = await c().CreateSnapshot({ name: 'snap-twice', source_volume_id: sourceId });
    assert.equal(b.snapshot?.snapshot_id, a.snapshot?.snapshot_id);
    assert.equal(b.snapshot?.creation_time?.seconds, a.snapshot?.creation_time?.seconds);
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('returns ALREADY_EXISTS for the same name with another source volume', async () => {
    await c().CreateSnapshot({ name: 'snap-name-taken', source_volume_id: sourceId });
    await expectCode(c().CreateSnapshot({ name: 'snap-name-taken', source_volume_id: otherId }), grpc.status.ALREADY_EXISTS);
  });

  it('returns NOT_FOUND for an unknown source volume, and archives nothing', async () => {
    const tree = listTree(d.dirs.share);
    await expectCode(c().CreateSnapshot({ name: 'snap-of-nothing', source_volume_id: 'no-such-volume' }), grpc.status.NOT_FOUND);
    assert.deepEqual(listTree(d.dirs.share), tree);
  });

  it('accepts a snapshot name of the maximum length (128 bytes), twice', async () => {
    const name = `snap-${'Y'.repeat(123)}`;
    const a = await c().CreateSnapshot({ name, source_volume_id: sourceId });
    const b = await c().CreateSnapshot({ name, source_volume_id: sourceId });
    assert.equal(a.snapshot?.snapshot_id, b.snapshot?.snapshot_id);
  });

  describe('ListSnapshots and GetSnapshot', () => {
    let ids: string[];
    before(async () => {
      ids = [];
      for (const n of ['snap-list-1', 'snap-list-2', 'snap-list-3'])
        ids.push((await c().CreateSnapshot({ name: n, source_volume_id: otherId })).snapshot!.snapshot_id);
    });

    it('lists a snapshot by its id, and nothing for an unknown id', async () => {
      const one = await c().ListSnapshots({ snapshot_id: ids[1] });
      assert.deepEqual(
        one.entries.map((e) => e.snapshot?.snapshot_id),
        [ids[1]],
      );
      const none = await c().ListSnapshots({ snapshot_id: 'none-exist-id' });
      assert.equal(none.entries.length, 0);
    });

    it('lists the snapshots of a source volume only, and nothing for an unknown source', async () => {
      const mine = await c().ListSnapshots({ source_volume_id: otherId });
      assert.deepEqual(mine.entries.map((e) => e.snapshot?.snapshot_id).sort(), [...ids].sort());
      const none = await c().ListSnapshots({ source_volume_id: 'no-such-volume' });
      assert.equal(none.entries.length, 0);
    });

    it('pages with max_entries and starting_token, then returns the rest at once', async () => {
      const all = await c().ListSnapshots({});
      assert.ok(all.entries.length >= 5);
      const first = await c().ListSnapshots({ max_entries: 2 });
      assert.equal(first.entries.length, 2);
      assert.ok(first.next_token);
      const rest = await c().ListSnapshots({ starting_token: first.next_token });
      assert.equal(rest.entries.length, all.entries.length - 2);
      const seen = [...first.entries, ...rest.entries].map((e) => e.snapshot?.snapshot_id);
      assert.deepEqual(
        seen,
        all.entries.map((e) => e.snapshot?.snapshot_id),
      );
    });

    it('returns ABORTED for a starting_token it did not make', async () => {
      await expectCode(c().ListSnapshots({ starting_token: 'invalid-token' }), grpc.status.ABORTED);
    });

    it('GetSnapshot returns the snapshot, and NOT_FOUND for an unknown id', async () => {
      const got = await c().GetSnapshot({ snapshot_id: ids[0]! });
      assert.equal(got.snapshot?.source_volume_id, otherId);
      await expectCode(c().GetSnapshot({ snapshot_id: 'no-such-snapshot' }), grpc.status.NOT_FOUND);
    });
  });

  describe('DeleteSnapshot', () => {
    it('removes the archive and drops the snapshot from the list; a repeat succeeds', async () => {
      const id = (await c().CreateSnapshot({ name: 'snap-delete-me', source_volume_id: sourceId })).snapshot!.snapshot_id;
      await c().DeleteSnapshot({ snapshot_id: id });
      assert.equal(existsSync(snapshotDir(id)), false);
      assert.equal((await c().ListSnapshots({ snapshot_id: id })).entries.length, 0);
      await c().DeleteSnapshot({ snapshot_id: id });
    });

    it('succeeds for an unknown snapshot id', async () => {
      await c().DeleteSnapshot({ snapshot_id: 'reallyfakesnapshotid' });
    });
  });

  describe('content sources', () => {
    const expectSameContent = (id: string, expectedHello: string): void => {
      const data = dataDir(id);
      assert.equal(readFileSync(path.join(data, 'hello.txt'), 'utf8'), expectedHello);
      assert.deepEqual(readFileSync(path.join(data, 'nested', 'deeper', 'blob.bin')), Buffer.alloc(64 * 1024, 7));
      assert.equal(statSync(path.join(data, 'script.sh')).mode & 0o777, 0o750);
    };

    it('restores a volume from a snapshot with the content as it was when the snapshot was taken', async () => {
      const snap = (await c().CreateSnapshot({ name: 'snap-restore', source_volume_id: sourceId })).snapshot!;
      writeFileSync(path.join(dataDir(sourceId), 'hello.txt'), 'changed after the snapshot\n');
      const res = await c().CreateVolume({
        ...volumeRequest('pvc-restored', GiB),
        volume_content_source: { snapshot: { snapshot_id: snap.snapshot_id } },
      });
      assert.equal(res.volume?.content_source?.snapshot?.snapshot_id, snap.snapshot_id);
      expectSameContent(res.volume.volume_id, 'hello from the source volume\n');
      writeFileSync(path.join(dataDir(sourceId), 'hello.txt'), 'hello from the source volume\n');
    });

    it('clones a volume with its content', async () => {
      const res = await c().CreateVolume({
        ...volumeRequest('pvc-cloned', GiB),
        volume_content_source: { volume: { volume_id: sourceId } },
      });
      assert.equal(res.volume?.content_source?.volume?.volume_id, sourceId);
      expectSameContent(res.volume.volume_id, 'hello from the source volume\n');
    });

    it('is idempotent for a restore, and ALREADY_EXISTS for the same name with another source', async () => {
      const snap = (await c().CreateSnapshot({ name: 'snap-restore-twice', source_volume_id: sourceId })).snapshot!;
      const req = { ...volumeRequest('pvc-restored-twice', GiB), volume_content_source: { snapshot: { snapshot_id: snap.snapshot_id } } };
      const a = await c().CreateVolume(req);
      const b = await c().CreateVolume(req);
      assert.equal(a.volume?.volume_id, b.volume?.volume_id);
      await expectCode(
        c().CreateVolume({ ...volumeRequest('pvc-restored-twice', GiB), volume_content_source: { volume: { volume_id: sourceId } } }),
        grpc.status.ALREADY_EXISTS,
      );
    });
  });
});
