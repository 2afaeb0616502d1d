import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { liveness } from '../../../src/health/liveness';
import { startHealthServer } from '../../../src/http/healthHttpServer';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { IsolatedFsError, IsolationBrokenError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import { CommandTimeoutError } from '../../../src/mount/runCommand';
import { setThreadNice } from '../../../src/isolation/cpuPriority';
import { eventually } from '../../helpers/fakeHelper';

const crashableThread = path.join(__dirname, '..', '..', 'helpers', 'crashablePoolThread.js');
/** Running (a zombie has ended: only its dead thread could have reaped it). */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('FsHelperPool (helpers owned by a worker thread)', () => {
  let pool: FsHelperPool;
  let dir: string;
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1, probeHelpers: 1 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pool-'));
  });
  after(() => {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs file operations in a helper and returns their results', async () => {
    writeFileSync(path.join(dir, 'f'), 'hello');
    assert.equal(await pool.run({ op: 'readFile', path: path.join(dir, 'f'), maxBytes: 100 }, 5000), 'hello');
    assert.deepEqual((await pool.run({ op: 'readdir', path: dir }, 5000)).sort(), ['f']);
    assert.equal(await pool.run({ op: 'exists', path: path.join(dir, 'nope') }, 5000), false);
    const s = await pool.run({ op: 'statfs', path: dir }, 5000);
    assert.ok(BigInt(s.blocks) > 0n);
  });

  it('runs helpers and commands at the ordinary priority even when the thread that made the pool is boosted', async () => {
    /** The nice value in a /proc/<pid>/stat line (field 19). */
    const niceOf = (stat: string): number => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    const own = os.getPriority();
    assert.ok(setThreadNice(own - 5), 'the test runs as root, as the driver does');
    const boosted = new FsHelperPool({ maxIdle: 0, probeHelpers: 1 });
    try {
      const read = (lane: 'csi' | 'probe'): Promise<string> =>
        boosted.run({ op: 'readFile', path: '/proc/self/stat', maxBytes: 4096 }, 10_000, lane).then(String);
      assert.equal(niceOf(await read('csi')), own, 'a CSI helper');
      assert.equal(niceOf(await read('probe')), own, 'a probe helper');
      const cmd = await boosted.command('cat', ['/proc/self/stat'], { timeoutMs: 10_000 });
      assert.equal(niceOf(cmd.stdout), own, 'a command the pool thread runs');
    } finally {
      boosted.close();
      setThreadNice(own);
    }
  });

  it('keeps the error class and errno code across the thread boundary', async () => {
    await assert.rejects(
      pool.run({ op: 'stat', path: '/definitely/not/here' }, 5000),
      (err) => err instanceof IsolatedFsError && err.code === 'ENOENT',
    );
  });

  it('answers every mount of a probe round that answers, and leaves the one that overstays unanswered with IsolationTimeoutError', async () => {
    const items = ['a', 'b', 'c'].map((n) => ({
      path: path.join(dir, n),
      write: false,
      hiddenDir: '.h',
      ...(n === 'b' ? { delayMs: 60_000 } : {}),
    }));
    const before = pool.helperTotals();
    const round = pool.probeRound(items, 500);
    const outcome = await round.done;
    assert.ok(outcome.failure instanceof IsolationTimeoutError, `failure: ${String(outcome.failure)}`);
    await round.gone;
    await eventually(() => pool.helperTotals().probe.killed === before.probe.killed + 1, 'the kill is counted in the probe lane');
    assert.equal(pool.helperTotals().csi.killed, before.csi.killed, 'and not in the CSI lane');
    assert.ok(pool.helperTotals().probe.started >= 1, 'helpers started are counted');
    assert.equal(outcome.results[1], undefined, 'the slow mount did not answer');
    // a and c do not exist: they answer at once, with ENOENT at the first step.
    for (const i of [0, 2]) {
      assert.equal(outcome.results[i]?.ok, false);
      assert.equal(outcome.results[i]?.code, 'ENOENT');
      assert.equal(outcome.results[i]?.failedStep, 'stat');
    }
    const next = await pool.probeRound([{ path: dir, write: true, hiddenDir: '.h' }], 5000).done;
    assert.equal(next.failure, undefined);
    assert.equal(next.results[0]?.ok, true, 'the lane is ready for more work after a kill');
  });

  it("runs commands from the pool thread with their output, a deadline, and the spawn error's code", async () => {
    assert.deepEqual(await pool.command('sh', ['-c', 'echo out; exit 2'], { timeoutMs: 20_000 }), { code: 2, stdout: 'out\n', stderr: '' });
    await assert.rejects(pool.command('sleep', ['60'], { timeoutMs: 300 }), CommandTimeoutError);
    await assert.rejects(
      pool.command('/no/such/command', [], { timeoutMs: 20_000 }),
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    );
  });

  it('checks the mounts of a round at once without mixing up their data (twenty write checks in one directory)', async () => {
    const items = Array.from({ length: 20 }, () => ({ path: dir, write: true, hiddenDir: '.h' }));
    const { results, failure } = await pool.probeRound(items, 20_000).done;
    assert.equal(failure, undefined);
    assert.deepEqual(
      results.map((r) => r?.ok),
      items.map(() => true),
      JSON.stringify(results.filter((r) => !r?.ok)),
    );
  });

  it('runs CSI work while every probe helper is held by a round that hangs (the lanes never wait for each other)', async () => {
    const own = new FsHelperPool({ probeHelpers: 1 });
    try {
      const hung = own.probeRound([{ path: dir, write: false, hiddenDir: '.h', delayMs: 600_000 }], 300_000);
      const queuedRound = own.probeRound([{ path: dir, write: false, hiddenDir: '.h' }], 300_000);
      let roundsDone = 0;
      void hung.done.then(() => roundsDone++);
      void queuedRound.done.then(() => roundsDone++);
      assert.equal(await own.run({ op: 'exists', path: dir }, 60_000), true);
      assert.equal(roundsDone, 0, 'the CSI request finished while the probe lane was still full');
      own.close();
      assert.ok((await hung.done).failure instanceof IsolationBrokenError, 'closing the pool settles the round');
    } finally {
      own.close();
    }
  });
});

describe('FsHelperPool supervision', () => {
  const quiet = pino({ level: 'silent' });

  it('fails every pending request with IsolationBrokenError when the thread dies, kills its helpers, reports it down, and comes back', async () => {
    const pool = new FsHelperPool({ threadScript: crashableThread, restartDelayMs: 1000, probeHelpers: 1 });
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-sup-'));
      const round = pool.probeRound([{ path: dir, write: false, hiddenDir: '.h', delayMs: 60_000 }], 60_000);
      const csi = pool.runTracked({ op: 'exists', path: dir }, 60_000);
      await csi.result;
      await eventually(() => pool.helperPids().length >= 2, 'a helper in each lane');
      const pids = pool.helperPids();
      const slow = pool.run(
        { op: 'probeMany', path: 'x', items: [{ path: dir, write: false, hiddenDir: '.h', delayMs: 60_000 }] },
        60_000,
        'probe',
      );
      await assert.rejects(
        pool.run({ op: 'stat', path: '/crash-the-thread' }, 60_000),
        (err) => err instanceof IsolationBrokenError && err.why === 'thread-died',
      );
      const outcome = await round.done;
      assert.ok(outcome.failure instanceof IsolationBrokenError, 'the round settled with a typed error');
      await assert.rejects(slow, IsolationBrokenError);
      assert.equal(pool.status().ok, false, 'down while the thread restarts');
      await assert.rejects(pool.run({ op: 'exists', path: dir }, 5000), (err) => err instanceof IsolationBrokenError);
      await eventually(() => pids.every((p) => !alive(p)), "the dead thread's helpers are killed");
      await eventually(() => pool.status().ok, 'the thread is back');
      assert.equal(await pool.run({ op: 'exists', path: dir }, 20_000), true);
      assert.equal(pool.status().restarts, 1);
      rmSync(dir, { recursive: true, force: true });
    } finally {
      pool.close();
    }
  });

  it('keeps a live thread whose killed helper stays stuck in the kernel: no restart, other requests still answered', async function () {
    this.timeout(30_000);
    const stuckThread = path.join(__dirname, '..', '..', 'helpers', 'stuckHelperThread.js');
    const pool = new FsHelperPool({ threadScript: stuckThread, startAllowanceMs: 100, wedgedAfterMs: 300, restartDelayMs: 50 });
    try {
      await eventually(() => pool.status().ok && /available/.test(pool.status().message), 'the thread said hello');
      await assert.rejects(pool.run({ op: 'stat', path: '/stuck' }, 200), IsolationTimeoutError);
      // Past the backstop (200 + 100 + 1000 ms) and the wedge wait (300 ms), with margin.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(pool.status().restarts, 0, 'the thread acknowledged the cancel: it was not taken for wedged');
      assert.equal(pool.status().ok, true);
      assert.equal(await pool.run({ op: 'exists', path: '/' }, 5_000), true);
    } finally {
      pool.close();
    }
  });

  it('settles a request by its own deadline when the thread stops answering, then replaces the wedged thread', async () => {
    const pool = new FsHelperPool({ threadScript: crashableThread, startAllowanceMs: 100, wedgedAfterMs: 300, restartDelayMs: 50 });
    try {
      await assert.rejects(pool.run({ op: 'stat', path: '/wedge-the-thread' }, 200), IsolationTimeoutError);
      await eventually(() => pool.status().restarts === 1 && pool.status().ok, 'a new thread replaced the wedged one');
      assert.equal(await pool.run({ op: 'exists', path: '/' }, 20_000), true);
    } finally {
      pool.close();
    }
  });

  it('settles a request with IsolationBrokenError (helper-died) when its helper is killed under it', async () => {
    const pool = new FsHelperPool({ probeHelpers: 1, maxIdle: 0 });
    try {
      // A warm helper that has said it is ready: the kill lands on the request, not the start.
      assert.equal((await pool.probeRound([{ path: '/', write: false, hiddenDir: '.h' }], 20_000).done).results[0]?.ok, true);
      const round = pool.probeRound([{ path: '/', write: false, hiddenDir: '.h', delayMs: 60_000 }], 60_000);
      await eventually(() => pool.helperPids().length === 1, 'the round has its helper');
      process.kill(pool.helperPids()[0]!, 'SIGKILL');
      const outcome = await round.done;
      assert.ok(outcome.failure instanceof IsolationBrokenError && outcome.failure.why === 'helper-died', String(outcome.failure));
      assert.equal(outcome.results[0], undefined);
      assert.equal((await pool.probeRound([{ path: '/', write: false, hiddenDir: '.h' }], 20_000).done).results[0]?.ok, true);
    } finally {
      pool.close();
    }
  });

  it('answers /healthz/live 503 while the isolation thread is down and 200 once it is back', async () => {
    const pool = new FsHelperPool({ threadScript: crashableThread, restartDelayMs: 1500 });
    const server = await startHealthServer(
      0,
      '127.0.0.1',
      {
        live: liveness(
          () => ({ ok: true, message: 'monitor loop is ticking' }),
          () => pool.status(),
        ),
        ready: () => ({ ok: true, problems: [], storage: [] }),
        mounts: () => ({}),
        metrics: () => Promise.resolve(''),
        metricsContentType: 'text/plain',
        driverName: 'test',
      },
      quiet,
    );
    const port = (server.address() as { port: number }).port;
    const live = (): Promise<number> =>
      new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/healthz/live' }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    try {
      await pool.run({ op: 'exists', path: '/' }, 20_000);
      assert.equal(await live(), 200);
      await assert.rejects(pool.run({ op: 'stat', path: '/crash-the-thread' }, 20_000), IsolationBrokenError);
      assert.equal(await live(), 503);
      await eventually(() => pool.status().ok, 'the thread is back');
      assert.equal(await live(), 200);
    } finally {
      server.close();
      pool.close();
    }
  });
});
