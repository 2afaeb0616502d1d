import { strict as assert } from 'node:assert';
import { FaultInjector, InjectedFaultError } from '../../../src/health/faultInjector';

describe('FaultInjector', () => {
  let now = 0;
  const clock = { now: () => now, random: () => 0 };

  it('holds a condition until it expires', () => {
    const f = new FaultInjector(clock);
    f.setCondition('v1', 'INACCESSIBLE', 'MountUnresponsive', 'test', 1000);
    assert.deepEqual(f.issuesFor('v1'), [{ status: 'INACCESSIBLE', reason: 'MountUnresponsive', message: 'test', injected: true }]);
    now += 1000;
    assert.deepEqual(f.issuesFor('v1'), []);
  });

  it('fails exactly the next N operations of a kind', () => {
    const f = new FaultInjector(clock);
    f.failNext('publish', 2, 'no');
    f.consume('stage');
    assert.throws(() => f.consume('publish'), InjectedFaultError);
    assert.throws(() => f.consume('publish'), InjectedFaultError);
    f.consume('publish');
  });

  it('adds probe latency per volume and clears everything on request', () => {
    const f = new FaultInjector(clock);
    f.setLatency('v1', 2500);
    assert.equal(f.probeDelayMs('v1'), 2500);
    assert.equal(f.probeDelayMs('v2'), 0);
    f.clear();
    assert.equal(f.probeDelayMs('v1'), 0);
    assert.deepEqual(f.list(), { conditions: {}, latencies: {}, failures: {} });
  });
});
