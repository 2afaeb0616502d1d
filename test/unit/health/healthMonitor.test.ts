import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { FileRunner } from '../../../src/isolation/fsHelperPool';
import type { FsRequest, ProbeResult } from '../../../src/isolation/fsOps';
import { IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import type { MountEntry } from '../../../src/mount/mountTable';
import { HealthMonitor } from '../../../src/health/healthMonitor';
import type { MountRegistration } from '../../../src/health/mountRegistration';

const statfs = { bsize: '4096', blocks: '1000', bfree: '500', bavail: '500', files: '100', ffree: '50' };

/** A pool whose answers the test decides; `hold` keeps requests open until released. */
class FakePool implements Pick<FileRunner, 'run' | 'runTracked'> {
  answer: (path: string) => ProbeResult | 'timeout' = () => ({ ok: true, statfs });
  calls: FsRequest[] = [];
  stuckPaths = new Set<string>();
  private releaseStuck: Array<() => void> = [];

  run = ((req: FsRequest) => this.runTracked(req, 0).result) as FileRunner['run'];

  runTracked = ((req: FsRequest) => {
    this.calls.push(req);
    if (req.op === 'probeBatch') {
      const answers = req.items.map((i) => this.answer(i.path));
      if (answers.includes('timeout')) return { result: Promise.reject(new IsolationTimeoutError('probeBatch', req.path, 1)), gone: Promise.resolve() };
      return { result: Promise.resolve(answers.map((a) => ({ ...(a as ProbeResult), elapsedMs: 1 }))), gone: Promise.resolve() };
    }
    const a = this.answer(req.path);
    if (a === 'timeout') {
      // The helper was killed but stays stuck until the test lets it go.
      const gone = this.stuckPaths.has(req.path) ? new Promise<void>((r) => this.releaseStuck.push(r)) : Promise.resolve();
      return { result: Promise.reject(new IsolationTimeoutError('probe', req.path, 1)), gone };
    }
    return { result: Promise.resolve(a), gone: Promise.resolve() };
  }) as FileRunner['runTracked'];

  letStuckGo(): void {
    for (const r of this.releaseStuck.splice(0)) r();
  }

  probesOf(p: string): number {
    return this.calls.filter((c) => (c.op === 'probe' && c.path === p) || (c.op === 'probeBatch' && c.items.some((i) => i.path === p))).length;
  }
}

const reg = (p: string, extra: Partial<MountRegistration> = {}): MountRegistration => ({ volumeId: `vol-${p}`, path: p, kind: 'publish', readOnly: false, expectedSource: '', ...extra });
const entry = (p: string, source = 'dev'): MountEntry => ({ mountId: 1, parentId: 0, device: '0:1', root: '/', mountPoint: p, options: [], fsType: 'tmpfs', source, superOptions: [] });

function setup(opts: { failureThreshold?: number; successThreshold?: number; table?: MountEntry[]; random?: () => number } = {}) {
  let now = 1_000_000;
  const pool = new FakePool();
  const table = opts.table ?? [entry('/a'), entry('/b')];
  const monitor = new HealthMonitor({
    pool,
    readTable: async () => table,
    clock: { now: () => now, random: opts.random ?? (() => 0) },
    logger: pino({ level: 'silent' }),
    intervalMs: 10_000,
    timeoutMs: 1_000,
    failureThreshold: opts.failureThreshold ?? 2,
    successThreshold: opts.successThreshold ?? 2,
    concurrency: 2,
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
    assert.deepEqual(monitor.issuesOf('/a').map((i) => [i.status, i.reason]), [['INACCESSIBLE', 'StaleFileHandle']]);
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'unhealthy');
    assert.equal(monitor.get('/a')?.consecutiveErrors, 2);
    pool.answer = () => ({ ok: true, statfs });
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'unhealthy', 'one success is not enough');
    assert.equal(monitor.issuesOf('/a').length, 1, 'the issue stays until recovery');
    await cycle();
    assert.equal(monitor.get('/a')?.state, 'healthy');
    assert.deepEqual(monitor.issuesOf('/a'), []);
    assert.equal(monitor.get('/a')?.errorCount, 2);
  });

  it('classifies errors into reasons', async () => {
    const cases: Array<[ProbeResult, string, string]> = [
      [{ ok: false, code: 'ENOTCONN', message: 'x' }, 'INACCESSIBLE', 'TransportError'],
      [{ ok: false, code: 'EIO', message: 'x' }, 'INACCESSIBLE', 'TransportError'],
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
      assert.deepEqual(monitor.issuesOf('/a').map((i) => [i.status, i.reason]), [[status, reason]], `${result.code ?? 'low space'}`);
    }
  });

  it('reports NotMounted when the path left the mount table or shows another source, without touching the path', async () => {
    const { monitor, pool, cycle } = setup({ table: [entry('/b', 'server:/other')] });
    monitor.register(reg('/a'));
    monitor.register(reg('/b', { expectedSource: 'server:/export/volumes/b/data' }));
    await cycle();
    assert.equal(monitor.issuesOf('/a')[0]?.reason, 'NotMounted');
    assert.match(monitor.issuesOf('/b')[0]?.message ?? '', /mounted from server:\/other/);
    assert.equal(pool.calls.length, 0);
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

  it('probes healthy mounts in batches, and a batch that overstays falls back to single probes that find the hung mount', async () => {
    const { monitor, pool, cycle } = setup();
    monitor.register(reg('/a'));
    monitor.register(reg('/b'));
    await cycle();
    await cycle();
    assert.ok(pool.calls.some((c) => c.op === 'probeBatch'), 'healthy mounts are batched');
    pool.answer = (p) => (p === '/a' ? 'timeout' : { ok: true, statfs });
    await cycle();
    assert.equal(monitor.issuesOf('/a')[0]?.reason, 'MountUnresponsive');
    assert.deepEqual(monitor.issuesOf('/b'), []);
    assert.ok(pool.calls.some((c) => c.op === 'probe' && c.path === '/a'), 'the hung mount was probed on its own');
  });

  it('checks many mounts found at once in batches from the first round, and a hung one among them on its own', async () => {
    const table = Array.from({ length: 300 }, (_, k) => entry(`/n${k}`));
    const { monitor, pool, cycle } = setup({ table });
    pool.answer = (p) => (p === '/n7' ? 'timeout' : { ok: true, statfs });
    for (let k = 0; k < 300; k++) monitor.register(reg(`/n${k}`));
    await cycle();
    const batches = pool.calls.filter((c) => c.op === 'probeBatch');
    assert.ok(batches.length >= 3 && batches.length <= 6, `300 first checks went in ${batches.length} batches`);
    assert.equal(monitor.all().filter((m) => m.lastCheckTime > 0).length, 300, 'every mount was checked in the first round');
    const alone = new Set(pool.calls.filter((c) => c.op === 'probe').map((c) => c.path));
    assert.ok(alone.has('/n7'), 'the hung mount was probed alone');
    assert.ok(alone.size <= 128, `only the mounts of the batch that overstayed were probed alone (${alone.size})`);
    assert.equal(monitor.issuesOf('/n7')[0]?.reason, 'MountUnresponsive');
    assert.equal(monitor.all().filter((m) => m.state === 'healthy').length, 299);
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
    assert.ok(all.every((m) => m.lastCheckTime > 0), 'every mount had its first check');
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
