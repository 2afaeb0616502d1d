import { strict as assert } from 'node:assert';
import { VolumeLocks } from '../../../src/grpc/volumeLocks';

describe('VolumeLocks', () => {
  it('refuses a key that is held and grants it again after release', () => {
    const locks = new VolumeLocks();
    const release = locks.tryAcquire('volume:a');
    assert.ok(release);
    assert.equal(locks.tryAcquire('volume:a'), undefined);
    release();
    const again = locks.tryAcquire('volume:a');
    assert.ok(again);
    again();
  });

  it('holds different keys independently', () => {
    const locks = new VolumeLocks();
    const a = locks.tryAcquire('volume:a');
    const b = locks.tryAcquire('volume:b');
    assert.ok(a && b);
    assert.equal(locks.size, 2);
    a();
    assert.equal(locks.size, 1);
    assert.equal(locks.tryAcquire('volume:b'), undefined);
    b();
    assert.equal(locks.size, 0);
  });

  it('ignores a second release, so it cannot free a later holder', () => {
    const locks = new VolumeLocks();
    const first = locks.tryAcquire('volume:a')!;
    first();
    const second = locks.tryAcquire('volume:a');
    assert.ok(second);
    first();
    assert.equal(locks.tryAcquire('volume:a'), undefined, 'still held by the second holder');
    second();
  });

  it('takes several keys all or none, so two callers never each hold a part', () => {
    const locks = new VolumeLocks();
    const snap = locks.tryAcquire('snapshot:s', 'volume:a')!;
    assert.ok(snap);
    assert.equal(locks.tryAcquire('volume:b', 'volume:a'), undefined);
    assert.equal(locks.size, 2, 'the refused call took nothing');
    const b = locks.tryAcquire('volume:b');
    assert.ok(b);
    snap();
    assert.equal(locks.size, 1);
    b();
  });

  it('treats a key named twice as one (a clone of itself must not lock itself out)', () => {
    const locks = new VolumeLocks();
    const release = locks.tryAcquire('volume:a', 'volume:a');
    assert.ok(release);
    release();
    assert.equal(locks.size, 0);
  });
});
