import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';

describe('file helpers: realpath and probes that require a mount', () => {
  let pool: FsHelperPool;
  let dir: string;
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'helper-paths-'));
  });
  after(() => {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves where a path lands, also when its end does not exist yet, following symlinks and dangling ones', async () => {
    mkdirSync(path.join(dir, 'real'));
    symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    assert.equal(
      await pool.run({ op: 'realpath', path: path.join(dir, 'real', 'new', 'mount') }, 5000),
      path.join(dir, 'real', 'new', 'mount'),
    );
    assert.equal(await pool.run({ op: 'realpath', path: path.join(dir, 'link', 'mount') }, 5000), path.join(dir, 'real', 'mount'));
    assert.equal(await pool.run({ op: 'realpath', path: path.join(dir, 'dangling', 'mount') }, 5000), path.join(dir, 'nowhere', 'mount'));
  });

  it('a probe that requires a mount leaves nothing in a directory that is no mount point (a probe that ran after the unmount)', async function () {
    const bare = path.join(dir, 'bare');
    mkdirSync(bare);
    const r = (await pool.probeRound([{ path: bare, write: true, hiddenDir: '.h', requireMount: true }], 5000).done).results[0];
    assert.equal(r?.ok, false);
    assert.equal(r?.code, 'ENOTMOUNTED');
    assert.equal(existsSync(path.join(bare, '.h')), false);
    if (process.getuid?.() !== 0) this.skip();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'helper-probe', bare]);
    try {
      assert.equal(
        (await pool.probeRound([{ path: bare, write: true, hiddenDir: '.h', requireMount: true }], 5000).done).results[0]?.ok,
        true,
      );
    } finally {
      execFileSync('umount', [bare]);
    }
  });
});
