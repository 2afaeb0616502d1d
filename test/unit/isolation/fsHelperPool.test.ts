import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { HelperProcessPool } from '../../../src/isolation/helperProcessPool';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';

/** A helper that takes requests and never answers, like one stuck on a dead server; it ignores SIGTERM. */
const silentHelper = () =>
  spawn(process.execPath, ['-e', "process.on('message',()=>{});process.on('SIGTERM',()=>{});process.send({ready:true});setInterval(()=>{},1e6)"], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });

describe('HelperProcessPool', () => {
  it('kills a helper that overstays its deadline, counts it stuck until it exits, and rejects with IsolationTimeoutError', async () => {
    const pool = new HelperProcessPool({ spawn: silentHelper, maxStuck: 4 });
    const run = pool.runTracked({ op: 'stat', path: '/nowhere' }, 200);
    await assert.rejects(run.result, IsolationTimeoutError);
    await run.gone;
    assert.equal(pool.snapshot().stuck, 0, 'SIGKILL ended the helper');
    assert.equal(pool.snapshot().killedTotal, 1);
    pool.close();
  });

  it('refuses new work while too many killed helpers have not exited', async () => {
    const pool = new HelperProcessPool({ spawn: silentHelper, maxStuck: 1 });
    const first = pool.runTracked({ op: 'stat', path: '/a' }, 100);
    await assert.rejects(first.result, IsolationTimeoutError);
    // Between the kill and the exit the helper counts as stuck.
    const second = pool.run({ op: 'stat', path: '/b' }, 100);
    await assert.rejects(second, (err) => err instanceof HelpersExhaustedError || err instanceof IsolationTimeoutError);
    await first.gone;
    pool.close();
  });
});

describe('FsHelperPool (helpers owned by a worker thread)', () => {
  let pool: FsHelperPool;
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1 });
  });
  after(() => pool.close());

  it('runs file operations in a helper and returns their results', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-'));
    writeFileSync(path.join(dir, 'f'), 'hello');
    assert.equal(await pool.run({ op: 'readFile', path: path.join(dir, 'f'), maxBytes: 100 }, 5000), 'hello');
    assert.deepEqual((await pool.run({ op: 'readdir', path: dir }, 5000)).sort(), ['f']);
    assert.equal(await pool.run({ op: 'exists', path: path.join(dir, 'nope') }, 5000), false);
    const s = await pool.run({ op: 'statfs', path: dir }, 5000);
    assert.ok(BigInt(s.blocks) > 0n);
  });

  it('keeps the error class and errno code across the thread boundary', async () => {
    await assert.rejects(pool.run({ op: 'stat', path: '/definitely/not/here' }, 5000), (err) => err instanceof IsolatedFsError && err.code === 'ENOENT');
  });

  it('turns a probe that overstays into IsolationTimeoutError and is ready for more work after', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-'));
    await assert.rejects(pool.run({ op: 'probe', path: dir, write: true, hiddenDir: '.h', delayMs: 3000 }, 300), IsolationTimeoutError);
    const ok = await pool.run({ op: 'probe', path: dir, write: true, hiddenDir: '.h' }, 5000);
    assert.equal(ok.ok, true);
  });

  it('reports a probe of a read-only directory as EROFS at the write step', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-ro-'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'pool-ro', dir]);
    try {
      const r = await pool.run({ op: 'probe', path: dir, write: true, hiddenDir: '.h' }, 5000);
      assert.equal(r.ok, false);
      assert.equal(r.code, 'EROFS');
      assert.equal(r.failedStep, 'write');
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

/** A helper that answers every request at once, for counting how many the pool starts. */
const echoHelper = () =>
  spawn(process.execPath, ['-e', "process.on('message',(m)=>process.send({id:m.id,ok:true,result:{}}));process.send({ready:true})"], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });

describe('HelperProcessPool idle helpers', () => {
  it('keeps the helpers of a burst warm for the linger time, then stops those beyond maxIdle', async () => {
    const started: ReturnType<typeof echoHelper>[] = [];
    const pool = new HelperProcessPool({ spawn: () => started[started.push(echoHelper()) - 1]!, maxIdle: 1, idleLingerMs: 300 });
    const burst = () => Promise.all(Array.from({ length: 6 }, (_, i) => pool.run({ op: 'stat', path: `/p${i}` }, 10_000)));
    await burst();
    assert.equal(started.length, 6, 'a burst of 6 needs 6 helpers');
    assert.equal(pool.snapshot().idle, 6, 'all stay warm after the burst');
    await burst();
    assert.equal(started.length, 6, 'a second burst within the linger time starts no helper');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pool.snapshot().idle, 1, 'past the linger time only maxIdle stay');
    assert.equal(started.filter((c) => c.exitCode === null && c.signalCode === null).length, 1, 'the others were stopped');
    pool.close();
  });
});
