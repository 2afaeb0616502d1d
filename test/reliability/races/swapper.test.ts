import { strict as assert } from 'node:assert';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSwapper } from './swapper';

describe('race swapper', () => {
  it('exchanges a directory and a symlink atomically, many times', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'race-swapper-'));
    try {
      mkdirSync(path.join(root, 'real'));
      symlinkSync('/', path.join(root, 'link'));
      const s = await startSwapper(path.join(root, 'real'), path.join(root, 'link'));
      // Both names always exist (an exchange is atomic: neither is ever missing), and each is
      // seen as a directory at one moment and as a symlink at another.
      const seen = new Set<string>();
      for (const until = Date.now() + 30_000; seen.size < 2 && Date.now() < until;) {
        const st = lstatSync(path.join(root, 'real'));
        seen.add(st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other');
        lstatSync(path.join(root, 'link'));
      }
      assert.deepEqual([...seen].sort(), ['dir', 'link']);
      const { swaps } = await s.stop();
      assert.ok(swaps > 0, 'the swapper made no exchange');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
