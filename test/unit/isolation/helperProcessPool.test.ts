import { strict as assert } from 'node:assert';
import { HelperProcessPool } from '../../../src/isolation/helperProcessPool';
import { HelpersExhaustedError, IsolationBrokenError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import { eventually, FakeHelper } from '../../helpers/fakeHelper';

function poolWithFakes(
  opts: ConstructorParameters<typeof HelperProcessPool>[0] = {},
  startsReady = true,
): { pool: HelperProcessPool; helpers: FakeHelper[] } {
  const helpers: FakeHelper[] = [];
  const pool = new HelperProcessPool({
    ...opts,
    spawn: () => {
      const h = new FakeHelper(startsReady);
      helpers.push(h);
      return h.asChild();
    },
  });
  return { pool, helpers };
}

describe('HelperProcessPool (one lane)', () => {
  it('kills a helper that overstays, rejects with IsolationTimeoutError, and counts it stuck until it really exits', async () => {
    const { pool, helpers } = poolWithFakes({ maxIdle: 0 });
    const run = pool.runTracked({ op: 'stat', path: '/nowhere' }, { timeoutMs: 50 });
    await assert.rejects(run.result, IsolationTimeoutError);
    assert.equal(helpers[0]?.killed, true);
    assert.equal(pool.snapshot().stuck, 1);
    let gone = false;
    void run.gone.then(() => (gone = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(gone, false, 'not gone before the process exits');
    helpers[0]?.exit();
    await run.gone;
    assert.equal(pool.snapshot().stuck, 0);
    assert.equal(pool.snapshot().killedTotal, 1);
    pool.close();
  });

  it('refuses new work with HelpersExhaustedError while maxStuck killed helpers have not exited, and takes work again after', async () => {
    const { pool, helpers } = poolWithFakes({ maxStuck: 1, maxIdle: 0 });
    const first = pool.runTracked({ op: 'stat', path: '/a' }, { timeoutMs: 30 });
    await assert.rejects(first.result, IsolationTimeoutError);
    await assert.rejects(pool.run({ op: 'stat', path: '/b' }, 1000), HelpersExhaustedError);
    helpers[0]?.exit();
    await first.gone;
    const next = pool.run({ op: 'stat', path: '/c' }, 5000);
    await eventually(() => helpers.some((h) => h.sent.some((m) => m.req.path === '/c')), 'the request reached a helper');
    helpers.find((h) => h.sent.some((m) => m.req.path === '/c'))?.answer({ ok: 1 });
    assert.deepEqual(await next, { ok: 1 });
    pool.close();
  });

  it('rejects with IsolationBrokenError (helper-died) when the helper exits under a request', async () => {
    const { pool, helpers } = poolWithFakes();
    const run = pool.run({ op: 'readdir', path: '/x' }, 10_000);
    await eventually(() => helpers[0]?.sent.length === 1, 'the request was sent');
    helpers[0]?.exit();
    await assert.rejects(run, (err) => err instanceof IsolationBrokenError && err.why === 'helper-died');
    pool.close();
  });

  it('gives a request that waited in the queue past its absolute deadline an IsolationTimeoutError without sending it', async () => {
    const { pool, helpers } = poolWithFakes({ maxHelpers: 1 });
    const first = pool.run({ op: 'stat', path: '/first' }, 10_000);
    const late = pool.runTracked({ op: 'stat', path: '/late' }, { timeoutMs: 10_000, deadlineAt: Date.now() + 20 });
    await new Promise((r) => setTimeout(r, 40));
    helpers[0]?.answer();
    await first;
    await assert.rejects(late.result, IsolationTimeoutError);
    assert.ok(!helpers.some((h) => h.sent.some((m) => m.req.path === '/late')), 'the late request never reached a helper');
    pool.close();
  });

  it('delivers partial answers as they come, a batch at a time, then the final one', async () => {
    const { pool, helpers } = poolWithFakes();
    const partials: Array<[number, unknown]> = [];
    const run = pool.runTracked(
      { op: 'probeMany', path: 'round', items: [] },
      { timeoutMs: 10_000, onPartial: (answers) => partials.push(...answers) },
    );
    await eventually(() => helpers[0]?.sent.length === 1, 'the round was sent');
    const id = helpers[0]!.sent[0]!.id;
    helpers[0]!.emit('message', { id, partial: true, answers: [[1, 'b']] });
    helpers[0]!.emit('message', {
      id,
      partial: true,
      answers: [
        [0, 'a'],
        [2, 'c'],
      ],
    });
    helpers[0]!.emit('message', { id, ok: true, result: null });
    assert.equal(await run.result, null);
    assert.deepEqual(partials, [
      [1, 'b'],
      [0, 'a'],
      [2, 'c'],
    ]);
    pool.close();
  });

  it('cancel() kills the helper of a running request and drops a queued one', async () => {
    const { pool, helpers } = poolWithFakes({ maxHelpers: 1 });
    const running = pool.runTracked({ op: 'stat', path: '/r' }, { timeoutMs: 60_000 }, 7);
    const queued = pool.runTracked({ op: 'stat', path: '/q' }, { timeoutMs: 60_000 }, 8);
    await eventually(() => helpers[0]?.sent.length === 1, 'the first request was sent');
    pool.cancel(8);
    await assert.rejects(queued.result, IsolationTimeoutError);
    pool.cancel(7);
    await assert.rejects(running.result, IsolationTimeoutError);
    assert.equal(helpers[0]?.killed, true);
    pool.close();
  });

  it('keeps the helpers of a burst warm for the linger time, then stops those beyond maxIdle', async () => {
    const { pool, helpers } = poolWithFakes({ maxIdle: 1, idleLingerMs: 100 });
    const burst = (tag: string): Promise<unknown[]> => {
      const runs = Array.from({ length: 6 }, (_, i) => pool.run({ op: 'stat', path: `/${tag}${i}` }, 60_000));
      return eventually(
        () => helpers.filter((h) => h.sent.some((m) => m.req.path.startsWith(`/${tag}`))).length === 6,
        'six helpers hold the burst',
      ).then(() => {
        for (const h of helpers) if (h.sent.at(-1)?.req.path.startsWith(`/${tag}`)) h.answer();
        return Promise.all(runs);
      });
    };
    await burst('a');
    assert.equal(helpers.length, 6, 'six requests at once need six helpers');
    assert.equal(pool.snapshot().idle, 6, 'all stay warm after the burst');
    await burst('b');
    assert.equal(helpers.length, 6, 'a second burst within the linger time starts no helper');
    await eventually(() => pool.snapshot().idle === 1, 'only maxIdle helpers stay past the linger time');
    assert.equal(helpers.filter((h) => h.killed).length, 5, 'the others were stopped');
    pool.close();
  });

  it('keeps a helper still starting when its request gives up, and serves the next request with it once ready', async () => {
    // A slow machine: a helper takes longer to start than a request may wait. Killing it at each
    // request's deadline would start every helper afresh and no request would ever run.
    const { pool, helpers } = poolWithFakes({ maxIdle: 1 }, false);
    const first = pool.runTracked({ op: 'stat', path: '/early' }, { timeoutMs: 5_000, deadlineAt: Date.now() + 50 });
    await assert.rejects(first.result, (err) => err instanceof IsolationBrokenError && err.why === 'helper-start');
    assert.equal(helpers.length, 1);
    assert.equal(helpers[0]!.killed, false, 'the starting helper was kept');
    assert.equal(pool.snapshot().idle, 1);
    helpers[0]!.becomeReady();
    const second = pool.run({ op: 'stat', path: '/later' }, 5_000);
    await eventually(() => helpers[0]!.sent.some((m) => m.req.path === '/later'), 'the kept helper got the next request');
    helpers[0]!.answer({ ok: 2 });
    assert.deepEqual(await second, { ok: 2 });
    assert.equal(helpers.length, 1, 'no helper was started for it');
    pool.close();
  });

  it('does not keep a starting helper that exited, and prefers a ready helper to a starting one', async () => {
    const { pool, helpers } = poolWithFakes({ maxIdle: 2 }, false);
    const a = pool.runTracked({ op: 'stat', path: '/a' }, { timeoutMs: 5_000, deadlineAt: Date.now() + 30 });
    await assert.rejects(a.result, IsolationBrokenError);
    helpers[0]!.exit();
    await eventually(() => pool.snapshot().idle === 0, 'the exited helper left the idle list');
    // Two requests at once start two helpers; both give up before either is ready, and both stay.
    const b = pool.runTracked({ op: 'stat', path: '/b' }, { timeoutMs: 5_000, deadlineAt: Date.now() + 30 });
    const c = pool.runTracked({ op: 'stat', path: '/c' }, { timeoutMs: 5_000, deadlineAt: Date.now() + 30 });
    await assert.rejects(b.result, IsolationBrokenError);
    await assert.rejects(c.result, IsolationBrokenError);
    assert.equal(helpers.length, 3);
    assert.equal(pool.snapshot().idle, 2, 'both starting helpers were kept');
    // The later one becomes ready while the earlier one still starts: the ready one serves.
    helpers[2]!.becomeReady();
    const d = pool.run({ op: 'stat', path: '/d' }, 5_000);
    await eventually(() => helpers[2]!.sent.some((m) => m.req.path === '/d'), 'the ready helper took it');
    helpers[2]!.answer({ ok: 'd' });
    assert.deepEqual(await d, { ok: 'd' });
    pool.close();
  });

  it('serves a request waiting for a new helper with a helper freed meanwhile, and keeps the new one for later', async () => {
    // 8 teardowns at once on a slow machine: a busy helper is free in milliseconds, a fresh one
    // takes seconds to start. A request must not stay tied to the helper started for it.
    const { pool, helpers } = poolWithFakes({ maxIdle: 2 }, false);
    const a = pool.run({ op: 'stat', path: '/a' }, 10_000);
    await eventually(() => helpers.length === 1, 'a helper was started for /a');
    helpers[0]!.becomeReady();
    await eventually(() => helpers[0]!.sent.length === 1, '/a reached the first helper');
    const b = pool.run({ op: 'stat', path: '/b' }, 10_000);
    await eventually(() => helpers.length === 2, 'a helper was started for /b');
    helpers[0]!.answer({ ok: 'a' });
    assert.deepEqual(await a, { ok: 'a' });
    await eventually(() => helpers[0]!.sent.some((m) => m.req.path === '/b'), '/b went to the helper /a freed');
    assert.equal(helpers[1]!.sent.length, 0, 'not to the one still starting');
    helpers[0]!.answer({ ok: 'b' });
    assert.deepEqual(await b, { ok: 'b' });
    helpers[1]!.becomeReady();
    await eventually(() => pool.snapshot().idle === 2, 'the late helper is kept warm');
    assert.equal(helpers[1]!.killed, false);
    pool.close();
  });
});
