import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { ProbeResult } from '../../../src/isolation/fsOps';
import { FakeIsolation } from '../../helpers/fakeIsolation';
import { healthyStatfs as statfs, tableEntry as entry, publishReg as reg } from '../../helpers/monitorFixtures';
import type { MountEntry } from '../../../src/mount/mountTable';
import { HealthMonitor } from '../../../src/health/healthMonitor';

function setup(
  opts: {
    failureThreshold?: number;
    successThreshold?: number;
    table?: MountEntry[];
    random?: () => number;
    concurrency?: number;
    delays?: Record<string, number>;
  } = {},
) {
  let now = 1_000_000;
  const pool = new FakeIsolation(statfs);
  const table = opts.table ?? [entry('/a'), entry('/b')];
  const delays = opts.delays ?? {};
  const monitor = new HealthMonitor({
    isolation: pool,
    readTable: async () => table,
    clock: { now: () => now, random: opts.random ?? (() => 0) },
    logger: pino({ level: 'silent' }),
    intervalMs: 10_000,
    timeoutMs: 1_000,
    failureThreshold: opts.failureThreshold ?? 2,
    successThreshold: opts.successThreshold ?? 2,
    concurrency: opts.concurrency ?? 2,
    faults: { issuesFor: () => [], probeDelayMs: (id) => delays[id] ?? 0 },
  });
  const flush = () => new Promise((r) => setImmediate(r));
  /** Moves the clock past the next due time and lets every probe finish. */
  const cycle = async () => {
    now += 10_001;
    monitor.tick();
    for (let i = 0; i < 5; i++) await flush();
  };
  return { monitor, pool, cycle, advance: (ms: number) => (now += ms), flush };
}

describe('HealthMonitor', () => {
  it('goes degraded on the first failure, unhealthy at the failure threshold, and healthy again only after the success threshold', async () => {
    const { monitor, pool, cycle } = setup({ failureThreshold: 2, successThreshold: 2 });
    monitor.register(reg('/a'));
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'healthy');
    pool.answer = () => ({ ok: false, code: 'ESTALE', message: 'stale', failedStep: 'stat' });
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'degraded');
    assert.deepEqual(
      monitor.issuesOf('/a').map((i) => [i.status, i.reason]),
      [['INACCESSIBLE', 'StaleFileHandle']],
    );
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'unhealthy');
    assert.equal(monitor.get('/a')?.consecutiveErrors, 2);
    assert.equal(monitor.knownDead('/a'), true, 'a stale handle is known dead');
    pool.answer = () => ({ ok: true, statfs });
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'unhealthy', 'one success is not enough');
    assert.equal(monitor.issuesOf('/a').length, 1, 'the issue stays until recovery');
    assert.equal(monitor.knownDead('/a'), false, 'but the server answers again: no forced unmount');
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'healthy');
    assert.deepEqual(monitor.issuesOf('/a'), []);
    assert.equal(monitor.get('/a')?.errorCount, 2);
  });

  it('classifies errors into reasons', async () => {
    const cases: Array<[ProbeResult, string, string]> = [
      [{ ok: false, code: 'ENOTCONN', message: 'x' }, 'INACCESSIBLE', 'TransportError'],
      [{ ok: false, code: 'EIO', message: 'x' }, 'INACCESSIBLE', 'TransportError'],
      // A FUSE request cut off by an abort of its connection (umount -f of another mount of it).
      [{ ok: false, code: 'ECONNABORTED', message: 'x' }, 'INACCESSIBLE', 'TransportError'],
      [{ ok: false, code: 'EROFS', message: 'x', failedStep: 'write' }, 'DEGRADED', 'ReadOnlyFilesystem'],
      [{ ok: false, code: 'ENOSPC', message: 'x', failedStep: 'write' }, 'DEGRADED', 'NoSpace'],
      [{ ok: false, code: 'EMISMATCH', message: 'x', failedStep: 'compare' }, 'DATA_LOSS', 'DataMismatch'],
      [{ ok: false, code: 'ENOENT', message: 'x', failedStep: 'stat' }, 'INACCESSIBLE', 'VolumeNotFound'],
      [{ ok: true, statfs: { ...statfs, bavail: '1' } }, 'DEGRADED', 'NoSpace'],
    ];
    for (const [result, status, reason] of cases) {
      const { monitor, pool, cycle } = setup();
      monitor.register(reg('/a'));
      pool.answer = () => result;
      await cycle();
      assert.deepEqual(
        monitor.issuesOf('/a').map((i) => [i.status, i.reason]),
        [[status, reason]],
        `${result.code ?? 'low space'}`,
      );
      assert.equal(monitor.knownDead('/a'), reason === 'TransportError', `${result.code ?? 'low space'} is known dead`);
    }
  });

  it('reports NotMounted when the path left the mount table or shows another source, without touching the path', async () => {
    const { monitor, pool, cycle } = setup({ table: [entry('/b', 'server:/other')] });
    monitor.register(reg('/a'));
    monitor.register(reg('/b', { expectedSource: 'server:/export/volumes/b/data' }));
    await cycle();
    assert.equal(monitor.issuesOf('/a')[0]?.reason, 'NotMounted');
    assert.match(monitor.issuesOf('/b')[0]?.message ?? '', /mounted from server:\/other/);
    assert.equal(pool.rounds.length, 0);
  });

  it('marks an overstaying probe MountUnresponsive and sends no new probe for that mount until the stuck helper is gone', async () => {
    const { monitor, pool, cycle } = setup();
    monitor.register(reg('/a'));
    monitor.register(reg('/b'));
    pool.answer = (p) => (p === '/a' ? 'timeout' : { ok: true, statfs });
    pool.stuckPaths.add('/a');
    await cycle();
    assert.equal(monitor.issuesOf('/a')[0]?.reason, 'MountUnresponsive');
    assert.equal(monitor.get('/a')?.stuck, true);
    const probesOfA = pool.probesOf('/a');
    await cycle();
    await cycle();
    assert.equal(pool.probesOf('/a'), probesOfA, 'no probe while the old one is stuck');
    assert.ok(pool.probesOf('/b') >= 3, 'other mounts keep being checked');
    pool.letStuckGo();
    await cycle();
    assert.equal(pool.probesOf('/a'), probesOfA + 1);
  });

  it('probes mounts that answered well apart from those that did not, so a hung mount does not hold healthy ones', async () => {
    const { monitor, pool, cycle } = setup();
    monitor.register(reg('/a'));
    monitor.register(reg('/b'));
    await cycle();
    assert.ok(
      pool.rounds.some((r) => r.items.length === 2),
      'healthy mounts share a round',
    );
    pool.answer = (p) => (p === '/a' ? 'timeout' : { ok: true, statfs });
    await cycle();
    assert.equal(monitor.issuesOf('/a')[0]?.reason, 'MountUnresponsive');
    assert.deepEqual(monitor.issuesOf('/b'), [], 'the mount that answered in the same round is healthy');
    const before = pool.rounds.length;
    await cycle();
    const later = pool.rounds.slice(before);
    assert.ok(
      later.some((r) => r.items.some((i) => i.path === '/a')),
      'the hung mount is probed again',
    );
    assert.ok(
      later.every((r) => !(r.items.some((i) => i.path === '/a') && r.items.some((i) => i.path === '/b'))),
      "but not in the healthy mount's round",
    );
  });

  it('reports every mount of a whole-server outage (150 of 200 hung) in one interval and timeout, with at most `concurrency` rounds at once', async () => {
    const table = Array.from({ length: 200 }, (_, k) => entry(`/s${k}`));
    const { monitor, pool, cycle, flush } = setup({ table, concurrency: 3 });
    for (let k = 0; k < 200; k++) monitor.register(reg(`/s${k}`));
    await cycle();
    assert.equal(monitor.all().filter((m) => m.state === 'healthy').length, 200);
    pool.answer = (p) => (Number(p.slice(2)) < 150 ? 'timeout' : { ok: true, statfs });
    pool.holdRounds = true;
    await cycle();
    // Rounds wait out their deadline (the clock stands still: all of this is one moment of the
    // interval); finishing them lets the rounds that waited for a helper start.
    for (let i = 0; i < 20; i++) {
      pool.finishHeld();
      for (let f = 0; f < 5; f++) await flush();
    }
    assert.ok(pool.maxInFlight <= 3, `${pool.maxInFlight} rounds ran at once`);
    const hung = monitor.all().filter((m) => monitor.issuesOf(m.reg.path)[0]?.reason === 'MountUnresponsive');
    assert.equal(hung.length, 150, 'every hung mount is reported');
    assert.ok(
      hung.every((m) => monitor.knownDead(m.reg.path)),
      'and known dead for a fast teardown',
    );
    assert.equal(monitor.all().filter((m) => m.state === 'healthy').length, 50);
    assert.ok(
      pool.rounds.every((r) => r.items.length <= 128),
      'no round is larger than the round size',
    );
  });

  it('checks many mounts found at once in rounds from the first check, a hung one among them reported unresponsive', async () => {
    const table = Array.from({ length: 300 }, (_, k) => entry(`/n${k}`));
    const { monitor, pool, cycle } = setup({ table });
    pool.answer = (p) => (p === '/n7' ? 'timeout' : { ok: true, statfs });
    for (let k = 0; k < 300; k++) monitor.register(reg(`/n${k}`));
    await cycle();
    assert.ok(pool.rounds.length >= 3 && pool.rounds.length <= 5, `300 first checks went in ${pool.rounds.length} rounds`);
    assert.equal(monitor.all().filter((m) => m.lastCheckTime > 0).length, 300, 'every mount was checked in the first round');
    assert.equal(monitor.issuesOf('/n7')[0]?.reason, 'MountUnresponsive');
    assert.equal(monitor.all().filter((m) => m.state === 'healthy').length, 299);
  });

  it('probes each mount with its own timeout, and a mount with injected latency apart, carrying the delay', async () => {
    const { monitor, pool, cycle } = setup({ delays: { 'vol-/b': 5000 } });
    monitor.register(reg('/a', { timeoutMs: 300 }));
    monitor.register(reg('/b'));
    await cycle();
    const ofA = pool.rounds.find((r) => r.items.some((i) => i.path === '/a'));
    const ofB = pool.rounds.find((r) => r.items.some((i) => i.path === '/b'));
    assert.equal(ofA?.timeoutMs, 300);
    assert.equal(ofB?.timeoutMs, 1000);
    assert.notEqual(ofA, ofB);
    assert.equal(ofB?.items[0]?.delayMs, 5000);
  });

  it('gives no verdict when the isolation layer fails (not the storage), and says so in liveness', async () => {
    const { monitor, pool, cycle } = setup();
    monitor.register(reg('/a'));
    await cycle();
    pool.answer = () => 'broken';
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'healthy');
    assert.deepEqual(monitor.issuesOf('/a'), []);
    assert.match(monitor.loopAlive().message, /probe round failed: file helpers unavailable/);
  });

  it('keeps reporting what it knew of a mount being taken down, and probes it no more', async () => {
    const { monitor, pool, cycle } = setup();
    monitor.register(reg('/a'));
    pool.answer = () => 'timeout';
    await cycle();
    monitor.retire('/a');
    const probes = pool.probesOf('/a');
    pool.answer = () => ({ ok: false, code: 'ENOTMOUNTED', message: 'gone' });
    await cycle();
    await cycle();
    assert.equal(pool.probesOf('/a'), probes, 'no probe of a retiring mount');
    assert.equal(monitor.issuesOf('/a')[0]?.reason, 'MountUnresponsive', 'the last verdict stays');
    monitor.retire('/a', false);
    await cycle();
    assert.equal(pool.probesOf('/a'), probes + 1, 'a mount that stays is probed again');
  });

  it('checks new mounts promptly, then spreads their checks over the interval', async () => {
    let i = 0;
    const table = Array.from({ length: 100 }, (_, k) => entry(`/m${k}`));
    const { monitor, advance, flush } = setup({ table, random: () => (i++ % 100) / 100 });
    for (let k = 0; k < 100; k++) monitor.register(reg(`/m${k}`));
    // All first checks fall within two seconds of registration.
    for (let t = 0; t < 40; t++) {
      advance(100);
      monitor.tick();
      for (let f = 0; f < 5; f++) await flush();
    }
    const all = monitor.all();
    assert.ok(
      all.every((m) => m.lastCheckTime > 0),
      'every mount had its first check',
    );
    const due = all.map((m) => m.nextDueAt);
    const spread = Math.max(...due) - Math.min(...due);
    assert.ok(spread > 5_000, `next checks spread over the 10 s interval (spread ${spread} ms)`);
  });

  it('forgets an unregistered mount', async () => {
    const { monitor, cycle } = setup();
    monitor.register(reg('/a'));
    await cycle();
    monitor.unregister('/a');
    assert.equal(monitor.get('/a'), undefined);
    assert.deepEqual(monitor.issuesOf('/a'), []);
  });

  it('says the loop is alive while it ticks', () => {
    const { monitor } = setup();
    monitor.tick();
    assert.equal(monitor.loopAlive().ok, true);
  });
});
