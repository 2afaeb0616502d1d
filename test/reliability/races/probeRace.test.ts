import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hiddenDir } from '../../../src/health/probeMount';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { unmountLeftovers } from '../../helpers/cleanup';
import { scaled } from '../reliabilityScale';
import { startSwapper } from './swapper';

/**
 * A pod flips the probe's directory in its volume between the real one and a symlink to a
 * directory outside, as fast as the kernel lets it, while the monitor probes. Nothing may ever
 * be created, written or removed outside the volume.
 */
describe('race: probe against a pod swapping its probe directory for a symlink', function () {
  const rounds = scaled(150, 3000);
  let root: string;
  let pool: FsHelperPool;
  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    root = mkdtempSync(path.join(os.tmpdir(), 'race-probe-'));
    pool = new FsHelperPool({ probeHelpers: 1 });
  });
  after(async () => {
    pool?.close();
    if (root) {
      await unmountLeftovers(root);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it(`writes nothing outside the volume in ${rounds} probes while the swapper runs`, async () => {
    const vol = path.join(root, 'vol');
    const outside = path.join(root, 'outside');
    mkdirSync(vol);
    mkdirSync(outside);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'race-probe', vol]);
    // Let the driver make its directory, then swap it with a symlink named next to it.
    const first = await pool.probeRound([{ path: vol, write: true, hiddenDir, requireMount: true }], 20_000).done;
    assert.equal(first.results[0]?.ok, true);
    symlinkSync(outside, path.join(vol, 'evil'));
    const swapper = await startSwapper(path.join(vol, hiddenDir), path.join(vol, 'evil'));
    let tampered = 0;
    let ok = 0;
    try {
      for (let i = 0; i < rounds; i++) {
        const r = (await pool.probeRound([{ path: vol, write: true, hiddenDir, requireMount: true, sweep: i % 10 === 0 }], 20_000).done)
          .results[0];
        if (r?.ok) ok++;
        else if (r?.code === 'ETAMPERED' || r?.failedStep === 'probeDir' || r?.code === 'ELOOP' || r?.code === 'ENOENT') tampered++;
        else assert.fail(`unexpected probe result ${JSON.stringify(r)}`);
        assert.deepEqual(readdirSync(outside), [], `something appeared outside after probe ${i}`);
      }
    } finally {
      const { swaps } = await swapper.stop();
      process.stdout.write(`      probe race: ${rounds} probes (${ok} ok, ${tampered} saw tampering), ${swaps} swaps\n`);
      assert.ok(swaps > 0);
    }
    assert.deepEqual(readdirSync(outside), []);
    execFileSync('umount', [vol]);
  });
});
