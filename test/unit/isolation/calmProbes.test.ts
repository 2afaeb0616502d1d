import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { calmStallMs } from '../../../src/isolation/fsHelperPoolOptions';
import { IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import type { ProbeItem } from '../../../src/isolation/fsOps';
import { mountsUnder, unmountLeftovers } from '../../helpers/cleanup';
import { mountBindfs } from '../../helpers/bindfs';
import { eventually } from '../../helpers/fakeHelper';

describe('probe rounds: calm mounts one at a time, handed to the thread pool when that stalls', () => {
  let pool: FsHelperPool;
  let root: string;
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1, probeHelpers: 1 });
    root = mkdtempSync(path.join(os.tmpdir(), 'calm-probes-'));
  });
  after(async () => {
    pool.close();
    await unmountLeftovers(root);
    if ((await mountsUnder(root)).length === 0) rmSync(root, { recursive: true, force: true });
  });

  const healthyDirs = (n: number, tag: string): string[] =>
    Array.from({ length: n }, (_, i) => {
      const d = path.join(root, `${tag}-${i}`);
      mkdirSync(d, { recursive: true });
      return d;
    });
  const calmItem = (p: string): ProbeItem => ({ path: p, write: true, hiddenDir: '.csi-health' });

  it('answers every mount of a calm round with the full write check, and leaves no probe file behind', async () => {
    const dirs = healthyDirs(12, 'healthy');
    const { results, failure } = await pool.probeRound(dirs.map(calmItem), 10_000).done;
    assert.equal(failure, undefined);
    dirs.forEach((d, i) => {
      assert.equal(results[i]?.ok, true, `${d}: ${JSON.stringify(results[i])}`);
      assert.ok(Number(results[i]?.statfs?.blocks) > 0, 'statfs figures come back');
      assert.deepEqual(readdirSync(path.join(d, '.csi-health')), [], 'the probe file was deleted');
    });
  });

  it('still answers the healthy mounts behind a hung one (frozen FUSE) before the deadline, and only the hung one times out', async function () {
    const fuse = await mountBindfs(path.join(root, 'fuse-backing'), path.join(root, 'fuse-mount'));
    try {
      const dirs = healthyDirs(8, 'behind');
      // The helper's thread starts after its first round: wait until rounds are answered on it.
      await eventually(
        async () => (await pool.probeRound(dirs.map(calmItem), 10_000).done).results.every((r) => r?.calm),
        'calm rounds on the thread',
      );
      fuse.freeze();
      const timeoutMs = 4_000;
      const t0 = Date.now();
      // The hung mount first: the one-at-a-time thread blocks on it before it reaches any other.
      const { results, failure } = await pool.probeRound([fuse.mountPoint, ...dirs].map(calmItem), timeoutMs).done;
      assert.ok(
        failure instanceof IsolationTimeoutError,
        `failure: ${String(failure)} after ${Date.now() - t0} ms; results: ${JSON.stringify(results)}`,
      );
      assert.equal(results[0], undefined, 'the hung mount has no answer (MountUnresponsive for the monitor)');
      dirs.forEach((d, i) => assert.equal(results[i + 1]?.ok, true, `${d} answered: ${JSON.stringify(results[i + 1])}`));
      assert.ok(
        results.slice(1).every((r) => !r?.calm),
        'all of them handed back to the thread pool',
      );
      // Handed over after the stall, not at the deadline: each answer's own time is far below it.
      for (const r of results.slice(1)) assert.ok(r!.elapsedMs < timeoutMs, `elapsed ${r!.elapsedMs} ms`);
      assert.ok(Date.now() - t0 >= timeoutMs - 100, 'the round still ends at its deadline, where the hung mount is reported');
      assert.ok(calmStallMs(timeoutMs) < timeoutMs / 4);
    } finally {
      await fuse.dispose();
    }
  });

  it('treats a symlink where the probe directory should be the same way on both paths: moved aside, never followed', async () => {
    // A pod replaces the driver's probe directory with a symlink to a directory outside its volume.
    const outside = path.join(root, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'secret'), 'keep');
    const [calmDir, suspectDir] = healthyDirs(2, 'tampered');
    for (const d of [calmDir!, suspectDir!]) symlinkSync(outside, path.join(d, '.csi-health'));
    // sweep marks a suspect mount: it goes to the thread pool, the calm one to the one-at-a-time thread.
    const { results } = await pool.probeRound([calmItem(calmDir!), { ...calmItem(suspectDir!), sweep: true }], 10_000).done;
    for (const [i, d] of [calmDir!, suspectDir!].entries()) {
      assert.equal(results[i]?.ok, false);
      assert.equal(results[i]?.code, 'ETAMPERED', JSON.stringify(results[i]));
      const names = readdirSync(d);
      assert.ok(
        names.some((n) => n.startsWith('.csi-health.displaced-')),
        `the symlink was moved aside: ${names.join(', ')}`,
      );
      assert.ok(existsSync(path.join(d, '.csi-health')), 'and the probe directory made afresh');
    }
    assert.deepEqual(readdirSync(outside), ['secret'], 'nothing was written through the symlink');
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'keep');
  });
});
