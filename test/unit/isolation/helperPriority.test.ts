import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

const modulePath = JSON.stringify(require.resolve('../../../src/isolation/helperPriority'));

describe('lowerHelperPriority', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nice-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the nice value to the autogroup file and reports both knobs set', () => {
    const file = path.join(dir, 'autogroup');
    writeFileSync(file, '');
    // A child process, so that this test run keeps its own priority.
    const script = `const { lowerHelperPriority } = require(${modulePath});
      const r = lowerHelperPriority(7, ${JSON.stringify(file)});
      process.stdout.write(JSON.stringify({ r, nice: require('node:os').getPriority() }));`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(out.status, 0, out.stderr);
    const { r, nice } = JSON.parse(out.stdout) as { r: { process: boolean; autogroup: boolean }; nice: number };
    assert.deepEqual(r, { process: true, autogroup: true });
    assert.equal(nice, Math.min(19, os.getPriority() + 7));
    assert.equal(readFileSync(file, 'utf8'), '7');
  });

  it('says the autogroup was not set when the kernel has no such file, and does not throw', () => {
    const missing = path.join(dir, 'no-such-dir', 'autogroup');
    const script = `const { lowerHelperPriority } = require(${modulePath});
      process.stdout.write(JSON.stringify(lowerHelperPriority(3, ${JSON.stringify(missing)})));`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { process: true, autogroup: false });
  });
});
