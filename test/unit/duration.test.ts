import { strict as assert } from 'node:assert';
import { parseDuration } from '../../src/duration';

describe('parseDuration', () => {
  it('reads milliseconds, seconds, minutes and hours', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('0s'), 0);
  });

  it('tolerates spaces around and between number and unit', () => {
    assert.equal(parseDuration(' 30s '), 30_000);
    assert.equal(parseDuration('5 s'), 5000);
  });

  it('rounds fractions of a millisecond', () => {
    assert.equal(parseDuration('0.0015s'), 2);
  });

  it('refuses a number without unit, an unknown unit, a negative value and empty text, with an example in the message', () => {
    for (const bad of ['30', 's', '-1s', '1d', '', '1e3ms', '1.s', 'ten s', '5S']) {
      assert.throws(() => parseDuration(bad), /invalid duration .*e\.g\. 500ms/, JSON.stringify(bad));
    }
  });
});
