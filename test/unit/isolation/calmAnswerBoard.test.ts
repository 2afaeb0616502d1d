import { strict as assert } from 'node:assert';
import { CalmAnswerBoard } from '../../../src/isolation/calmAnswerBoard';
import type { TimedProbeResult } from '../../../src/isolation/fsOps';

const statfs = { bsize: '4096', blocks: '262144', bfree: '131072', bavail: '120000', files: '65536', ffree: '65000' };

describe("CalmAnswerBoard: a round's answers in shared memory", () => {
  it('gives back a passing answer exactly as written, seen through a second view of the same memory', () => {
    const board = CalmAnswerBoard.forItems(3);
    const other = new CalmAnswerBoard(board.buffer, 3);
    assert.equal(other.finished(1), false);
    assert.equal(board.put(1, { ok: true, statfs, elapsedMs: 0.125 }), true);
    assert.equal(other.finished(0), false, 'only the slot written');
    assert.equal(other.finished(1), true);
    assert.deepEqual(other.get(1), { ok: true, statfs, elapsedMs: 0.125, calm: true });
    assert.equal(other.get(0), undefined);
  });

  it('refuses what it cannot carry exactly: failures, answers without statfs, numbers past 2^53', () => {
    const board = CalmAnswerBoard.forItems(4);
    const failed: TimedProbeResult = { ok: false, failedStep: 'write', code: 'EROFS', message: 'read-only', elapsedMs: 1 };
    assert.equal(board.put(0, failed), false);
    assert.equal(board.put(1, { ok: true, elapsedMs: 1 }), false);
    assert.equal(board.put(2, { ok: true, statfs: { ...statfs, blocks: '18446744073709551615' }, elapsedMs: 1 }), false);
    // A passing probe that still carries a message (a tampered probe directory) goes as a message.
    assert.equal(board.put(3, { ok: true, statfs, message: 'moved aside', elapsedMs: 1 }), false);
    for (let i = 0; i < 4; i++) assert.equal(board.finished(i), false, `slot ${i} untouched`);
    board.sentAsMessage(0);
    assert.equal(board.finished(0), true, 'the thread is done with it');
    assert.equal(board.get(0), undefined, 'but its answer comes as a message');
  });
});
