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
      // Both names always exist, one a directory and one a symlink, whatever the moment.
      for (let i = 0; i < 200; i++) {
        const kinds = [lstatSync(path.join(root, 'real')), lstatSync(path.join(root, 'link'))].map((st) => (st.isSymbolicLink() ? 'l' : 'd'));
        assert.deepEqual([...kinds].sort(), ['d', 'l']);
      }
      const { swaps } = await s.stop();
      assert.ok(swaps > 0, 'the swapper made no exchange');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
