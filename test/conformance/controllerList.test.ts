import { strict as assert } from 'node:assert';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, listAllVolumeIds, stopAndClean } from './conformanceKit';

describe('conformance: ListVolumes (--health-api v1.12)', () => {
  let d: DriverProcess;
  const ids: string[] = [];
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    for (const n of ['pvc-list-a', 'pvc-list-b', 'pvc-list-c', 'pvc-list-d', 'pvc-list-e']) ids.push(await createVolume(d.client, n));
  });
  after(() => stopAndClean(d));
  const c = () => d.client.controller;

  it('lists every volume in one page when max_entries is 0', async () => {
    const res = await c().ListVolumes({});
    assert.deepEqual(res.entries.map((e) => e.volume?.volume_id).sort(), [...ids].sort());
    assert.equal(res.next_token, '');
  });

  it('pages with max_entries and starting_token, each volume exactly once', async () => {
    const first = await c().ListVolumes({ max_entries: 2 });
    assert.equal(first.entries.length, 2);
    assert.ok(first.next_token, 'a next_token when more remain');
    const second = await c().ListVolumes({ max_entries: 2, starting_token: first.next_token });
    assert.equal(second.entries.length, 2);
    assert.ok(second.next_token);
    const third = await c().ListVolumes({ max_entries: 2, starting_token: second.next_token });
    assert.equal(third.entries.length, 1);
    assert.equal(third.next_token, '', 'no next_token on the last page');
    const seen = [...first.entries, ...second.entries, ...third.entries].map((e) => e.volume?.volume_id);
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });

  it('returns the rest at once for a starting_token without max_entries', async () => {
    const first = await c().ListVolumes({ max_entries: 2 });
    const rest = await c().ListVolumes({ starting_token: first.next_token });
    assert.equal(rest.entries.length, ids.length - 2);
    assert.equal(rest.next_token, '');
  });

  it('accepts a token after the last volume of its page was deleted, without duplicates', async () => {
    const extra = [await createVolume(d.client, 'pvc-list-x1'), await createVolume(d.client, 'pvc-list-x2')];
    const all = await listAllVolumeIds(d.client);
    const first = await c().ListVolumes({ max_entries: 2 });
    const lastOfPage = first.entries[1]!.volume!.volume_id;
    await c().DeleteVolume({ volume_id: lastOfPage });
    const rest = await c().ListVolumes({ starting_token: first.next_token });
    const restIds = rest.entries.map((e) => e.volume?.volume_id);
    assert.equal(restIds.length, all.length - 2);
    for (const id of restIds) assert.ok(!first.entries.some((e) => e.volume?.volume_id === id), `${id} is not listed twice`);
    for (const id of extra) await c().DeleteVolume({ volume_id: id });
  });

  it('shows a new volume and drops a deleted one', async () => {
    const before = await listAllVolumeIds(d.client);
    const id = await createVolume(d.client, 'pvc-list-new');
    assert.deepEqual((await listAllVolumeIds(d.client)).sort(), [...before, id].sort());
    await c().DeleteVolume({ volume_id: id });
    assert.deepEqual((await listAllVolumeIds(d.client)).sort(), [...before].sort());
  });

  it('gives the same listing whatever the page size', async () => {
    const whole = await listAllVolumeIds(d.client, 0);
    for (const size of [1, 2, 3, 100]) assert.deepEqual(await listAllVolumeIds(d.client, size), whole, `page size ${size}`);
  });

  it('returns ABORTED for a starting_token it did not make', async () => {
    await expectCode(c().ListVolumes({ starting_token: 'invalid-token' }), grpc.status.ABORTED);
    await expectCode(c().ListVolumes({ starting_token: Buffer.from('p2:pvc-list-a').toString('base64url') }), grpc.status.ABORTED);
  });

  it('returns INVALID_ARGUMENT for a negative max_entries', async () => {
    await expectCode(c().ListVolumes({ max_entries: -2 }), grpc.status.INVALID_ARGUMENT);
  });

  it('reports a normal volume_condition for each healthy volume', async () => {
    const res = await c().ListVolumes({});
    assert.ok(res.entries.length > 0);
    for (const e of res.entries) {
      assert.ok(e.status?.volume_condition, `volume_condition of ${e.volume?.volume_id}`);
      assert.equal(e.status.volume_condition.abnormal, false);
    }
  });
});

describe('conformance: ListVolumes and ControllerGetVolume with --health-api v1.13', () => {
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.13']);
  });
  after(() => stopAndClean(d));

  it('leaves volume_condition out, as v1.13 reserved that field', async () => {
    const id = await createVolume(d.client, 'pvc-v113');
    const list = await d.client.controller.ListVolumes({});
    assert.equal(list.entries[0]?.status?.volume_condition, null);
    const got = await d.client.controller.ControllerGetVolume({ volume_id: id });
    assert.equal(got.status?.volume_condition, null);
  });
});
