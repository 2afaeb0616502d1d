import { strict as assert } from 'node:assert';
import { recordJson, snapshotRecordFormat, volumeRecordFormat } from '../../../src/backend/recordSchemas';

const base = { id: 'pvc-1', name: 'pvc-1', parameters: {}, createdAt: '2026-12-06T10:00:00.000Z' };

describe('record schemas', () => {
  it('writes byte counts as JSON numbers while safe and as decimal strings above, and reads both back exactly', () => {
    for (const capacityBytes of [0n, 1n, 9007199254740991n, 9007199254740992n, 9223372036854775807n]) {
      const text = recordJson({ ...base, capacityBytes });
      const raw = JSON.parse(text) as { capacityBytes: unknown };
      assert.equal(typeof raw.capacityBytes, capacityBytes <= 9007199254740991n ? 'number' : 'string');
      const back = volumeRecordFormat.parse(raw);
      assert.ok(back.ok);
      assert.equal(back.rec.capacityBytes, capacityBytes);
    }
  });

  it('reads records written by earlier versions (numbers, contentSource)', () => {
    const r = volumeRecordFormat.parse({ ...base, capacityBytes: 1073741824, contentSource: { snapshotId: 'snap-1' } });
    assert.ok(r.ok);
    assert.deepEqual(r.rec.contentSource, { snapshotId: 'snap-1' });
  });

  it('says what is wrong with a record that is not one', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, capacityBytes: -1 }, /^capacityBytes: /],
      [{ ...base, capacityBytes: 1.5 }, /^capacityBytes: /],
      [{ ...base, capacityBytes: '9223372036854775808' }, /between 0 and 2\^63-1/],
      [{ ...base, capacityBytes: 2 ** 60 }, /^capacityBytes: /],
      [{ ...base, capacityBytes: 1, name: 7 }, /^name: /],
      [{ ...base, capacityBytes: 1, createdAt: 'yesterday' }, /^createdAt: not a timestamp/],
      [{ ...base, capacityBytes: 1, parameters: { a: 1 } }, /^parameters\.a: /],
      [{ ...base, capacityBytes: 1, contentSource: { snapshotId: 's', volumeId: 'v' } }, /^contentSource/],
      [[], /expected object/],
      [null, /expected object/],
    ];
    for (const [raw, problem] of cases) {
      const r = volumeRecordFormat.parse(raw);
      assert.ok(!r.ok, JSON.stringify(raw));
      assert.match(r.problem, problem, JSON.stringify(raw));
    }
  });

  it('checks snapshot records the same way', () => {
    const ok = snapshotRecordFormat.parse({ ...base, sourceVolumeId: 'pvc-0', sizeBytes: '9223372036854775807' });
    assert.ok(ok.ok);
    assert.equal(ok.rec.sizeBytes, 9223372036854775807n);
    const bad = snapshotRecordFormat.parse({ ...base, sizeBytes: 10 });
    assert.ok(!bad.ok);
    assert.match(bad.problem, /^sourceVolumeId: /);
  });
});
