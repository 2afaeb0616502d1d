import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommandFailedError, CommandTimeoutError, runChecked, runCommand } from '../../../src/mount/runCommand';
import { eventually } from '../../helpers/fakeHelper';

/** Whether a process still runs (a zombie has ended). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('runCommand', () => {
  it('resolves with the exit code and output, without a shell', async () => {
    const r = await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 30_000 });
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    await assert.rejects(runChecked(runCommand, 'false', [], { timeoutMs: 30_000 }), CommandFailedError);
  });

  it('kills the whole process group at the deadline, so what the command started dies with it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'run-command-'));
    try {
      const pidFile = path.join(dir, 'pid');
      // The shell starts a long child (as mount starts mount.nfs, or tar starts gzip) and waits.
      const run = runCommand('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], { timeoutMs: 5_000 });
      await assert.rejects(run, CommandTimeoutError);
      const child = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(child > 0);
      await eventually(() => !running(child), 'the grandchild died with its group');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
