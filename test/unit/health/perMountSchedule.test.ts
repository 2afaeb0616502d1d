import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { ProbeItem } from '../../../src/isolation/fsOps';
import type { ProbeRound } from '../../../src/isolation/isolatedFs';
import { FakeIsolation } from '../../helpers/fakeIsolation';
import { healthyStatfs as statfs, tableEntry as entry, publishReg as reg } from '../../helpers/monitorFixtures';
import { HealthMonitor } from '../../../src/health/healthMonitor';

/** Probe rounds that answer at once, recording each mount with the deadline of its round. */
class RecordingPool extends FakeIsolation {
  probes: Array<{ path: string; timeoutMs: number }> = [];

  override probeRound(items: ProbeItem[], timeoutMs: number): ProbeRound {
    for (const i of items) this.probes.push({ path: i.path, timeoutMs });
    return super.probeRound(items, timeoutMs);
  }

  count(p: string): number {
    return this.probes.filter((x) => x.path === p).length;
  }
}

function setup() {
  let now = 1_000_000;
  const pool = new RecordingPool(statfs);
  const monitor = new HealthMonitor({
    isolation: pool,
    readTable: async () => [entry('/default'), entry('/own')],
    clock: { now: () => now, random: () => 0 },
    logger: pino({ level: 'silent' }),
    intervalMs: 10_000,
    timeoutMs: 1_000,
    failureThreshold: 2,
    successThreshold: 2,
    concurrency: 4,
  });
  const flush = async () => {
    for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
  };
  /** Moves the fake clock in one-second steps, letting due probes run at each. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 1_000) {
      now += 1_000;
      monitor.tick();
      await flush();
    }
  };
  return { monitor, pool, run };
}

describe('HealthMonitor: a mount with its own schedule', () => {
  it("checks a mount on its own interval, and the others on the monitor's", async () => {
    const { monitor, pool, run } = setup();
    monitor.register(reg('/default'));
    monitor.register(reg('/own', { intervalMs: 40_000 }));
    await run(120_000);
    // Over 120 s of fake time: about 12 checks at 10 s, about 3 at 40 s (plus the prompt first ones).
    assert.ok(pool.count('/default') >= 10, `default mount checked ${pool.count('/default')} times`);
    assert.ok(pool.count('/own') >= 2 && pool.count('/own') <= 5, `own-interval mount checked ${pool.count('/own')} times`);
  });

  it("gives a mount's probe round the mount's own deadline", async () => {
    const { monitor, pool, run } = setup();
    pool.answer = () => ({ ok: false, code: 'EIO', message: 'io error', failedStep: 'stat' });
    monitor.register(reg('/default'));
    monitor.register(reg('/own', { timeoutMs: 3_000 }));
    await run(30_000);
    const single = (p: string) => pool.probes.filter((x) => x.path === p && x.timeoutMs >= 1_000).map((x) => x.timeoutMs);
    assert.ok(single('/own').length > 0 && single('/own').every((t) => t === 3_000), `own deadlines ${single('/own').join(',')}`);
    assert.ok(
      single('/default').length > 0 && single('/default').every((t) => t === 1_000),
      `default deadlines ${single('/default').join(',')}`,
    );
  });

  it('takes a new schedule when the mount is registered again (a new stage after ControllerModifyVolume)', async () => {
    const { monitor, run, pool } = setup();
    monitor.register(reg('/own', { intervalMs: 60_000 }));
    await run(5_000);
    monitor.register(reg('/own', { intervalMs: 10_000 }));
    assert.equal(monitor.get('/own')?.reg.intervalMs, 10_000);
    const before = pool.count('/own');
    await run(120_000);
    assert.ok(pool.count('/own') - before >= 6, `re-registered mount checked ${pool.count('/own') - before} times in 120 s`);
  });
});
