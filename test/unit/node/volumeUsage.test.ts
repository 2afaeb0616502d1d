import { strict as assert } from 'node:assert';
import { volumeUsage } from '../../../src/node/volumeUsage';
import { isLowOnSpace, statfsBytes } from '../../../src/backend/statfsBytes';

describe('volumeUsage (NodeGetVolumeStats figures)', () => {
  it('multiplies blocks by block size exactly beyond 2^53 (an EFS-sized filesystem)', () => {
    // 2^51 - 1 blocks of 4 KiB: 2^63 - 4096 bytes, which a double rounds.
    const s = {
      bsize: '4096',
      blocks: '2251799813685247',
      bfree: '2251799813685246',
      bavail: '2251799813685245',
      files: '9223372036854775807',
      ffree: '9223372036854775000',
    };
    const [bytes, inodes] = volumeUsage(s);
    assert.deepEqual(bytes, { unit: 'BYTES', total: '9223372036854771712', available: '9223372036854763520', used: '4096' });
    assert.deepEqual(inodes, { unit: 'INODES', total: '9223372036854775807', available: '9223372036854775000', used: '807' });
  });

  it('caps a product above int64 at 2^63 - 1 instead of wrapping negative', () => {
    const s = { bsize: '4096', blocks: '2251799813685248', bfree: '0', bavail: '2251799813685248', files: '1', ffree: '0' };
    const [bytes] = volumeUsage(s);
    assert.equal(bytes?.total, '9223372036854775807');
    assert.equal(bytes?.available, '9223372036854775807');
  });

  it('judges low space on exact figures', () => {
    assert.equal(isLowOnSpace(100n, 2n), true);
    assert.equal(isLowOnSpace(100n, 3n), false);
    assert.equal(isLowOnSpace(0n, 0n), false, 'a filesystem that reports no size is not full');
    const b = statfsBytes({ bsize: '1', blocks: '9007199254740993', bfree: '0', bavail: '180143985094819', files: '0', ffree: '0' });
    assert.equal(isLowOnSpace(b.totalBytes, b.availableBytes), true);
  });
});
