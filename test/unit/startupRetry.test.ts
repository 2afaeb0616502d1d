import { strict as assert } from 'node:assert';
import pino from 'pino';
import * as sinon from 'sinon';
import { retryUntilDone } from '../../src/startupRetry';

describe('retryUntilDone', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());

  it('goes on after a failed first attempt and keeps trying, backing off, until the work succeeds', async () => {
    let calls = 0;
    let done = false;
    const work = async (): Promise<void> => {
      calls++;
      if (calls < 3) throw new Error('share not reachable');
    };
    await retryUntilDone(
      work,
      () => (done = true),
      pino({ level: 'silent' }),
      'creating the share layout',
      () => false,
    );
    assert.equal(calls, 1);
    assert.equal(done, false, 'start-up went on without it');
    await clock.tickAsync(1_000);
    assert.equal(calls, 2);
    await clock.tickAsync(1_999);
    assert.equal(calls, 2, 'the second wait is twice the first');
    await clock.tickAsync(1);
    assert.equal(calls, 3);
    assert.equal(done, true);
    await clock.tickAsync(60_000);
    assert.equal(calls, 3, 'no attempt after success');
  });

  it('stops trying once the driver stops', async () => {
    let calls = 0;
    let stopped = false;
    await retryUntilDone(
      async () => {
        calls++;
        throw new Error('down');
      },
      () => undefined,
      pino({ level: 'silent' }),
      'x',
      () => stopped,
    );
    stopped = true;
    await clock.tickAsync(120_000);
    assert.equal(calls, 1);
  });
});
