import { strict as assert } from 'node:assert';
import * as sinon from 'sinon';
import { answerBatcher } from '../../../src/isolation/answerBatcher';
import type { PartialAnswers } from '../../../src/isolation/fsOps';

describe('answerBatcher: probe answers travel a few at a time', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());

  it('sends the answers of one flush period together, no later than that period after the first', () => {
    const sent: PartialAnswers[] = [];
    const b = answerBatcher((a) => sent.push(a), 10);
    b.add(3, 'c');
    clock.tick(6);
    b.add(0, 'a');
    assert.deepEqual(sent, [], 'nothing yet');
    clock.tick(4);
    assert.deepEqual(sent, [
      [
        [3, 'c'],
        [0, 'a'],
      ],
    ]);
    b.add(1, 'b');
    clock.tick(9);
    assert.equal(sent.length, 1, 'the period starts again with the next answer');
    clock.tick(1);
    assert.deepEqual(sent[1], [[1, 'b']]);
  });

  it('sends what waits at once on flush, and nothing when nothing waits', () => {
    const sent: PartialAnswers[] = [];
    const b = answerBatcher((a) => sent.push(a), 10);
    b.flush();
    assert.deepEqual(sent, []);
    b.add(7, 'x');
    b.flush();
    assert.deepEqual(sent, [[[7, 'x']]]);
    clock.tick(50);
    assert.equal(sent.length, 1, 'the timer of the flushed answers is gone');
  });
});
