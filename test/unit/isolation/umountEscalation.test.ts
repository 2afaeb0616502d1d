import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pinnedUnmount } from '../../../src/isolation/pinnedMountOps';
import { readMountTable } from '../../../src/mount/mountTable';
import { mountsUnder, unmountLeftovers } from '../../helpers/cleanup';

describe('the escalation of an unmount (real bind mounts, umount replaced by a script that stalls)', () => {
  let root: string;
  let kubelet: string;
  let data: string;
  const mountsAt = async (p: string) => (await readMountTable()).filter((e) => e.mountPoint === p);
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'umount-escalation-'));
    kubelet = path.join(root, 'kubelet');
    data = path.join(root, 'data');
    for (const d of [kubelet, data]) mkdirSync(d, { recursive: true });
  });
  after(async () => {
    await unmountLeftovers(root);
    if ((await mountsUnder(root)).length === 0) rmSync(root, { recursive: true, force: true });
  });

  const realUmount = execFileSync('sh', ['-c', 'command -v umount'], { encoding: 'utf8' }).trim();
  let bin: string;
  let savedPath: string | undefined;
  const target = () => path.join(kubelet, 'pods', 'escalate', 'mount');
  /** A `umount` that waits `seconds` before each step, then runs the real one (or, with `never`, sleeps until killed). */
  const stallingUmount = (seconds: number, never = false) =>
    writeFileSync(
      path.join(bin, 'umount'),
      never ? '#!/bin/sh\nexec sleep 600\n' : `#!/bin/sh\nsleep ${seconds}\nexec ${realUmount} "$@"\n`,
      { mode: 0o755 },
    );
  beforeEach(() => {
    bin = mkdtempSync(path.join(root, 'bin-'));
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    mkdirSync(target(), { recursive: true });
    execFileSync('mount', ['--bind', data, target()]);
  });
  afterEach(async () => {
    process.env.PATH = savedPath;
    await unmountLeftovers(target());
  });
  const unmount = (commandTimeoutMs: number, knownDead: boolean) =>
    pinnedUnmount({ op: 'pinnedUnmount', base: kubelet, path: target(), anyMount: true, removeDir: false, commandTimeoutMs, knownDead });

  it('takes a mount known dead off with one umount -f -l, which has twice the deadline', async function () {
    this.timeout(60_000);
    // Slow to start, as on a starved CPU: 3.2 s, past the 3 s umount deadline, well inside twice that.
    stallingUmount(3.2);
    const r = unmount(3_000, true);
    assert.equal(r.unmounted, 1);
    assert.deepEqual(
      r.commands.map((c) => [c.op, c.ok]),
      [['umount_dead', true]],
    );
    assert.ok(r.commands[0]!.seconds >= 3.2, 'the step was let finish');
    assert.deepEqual(await mountsAt(target()), []);
  });

  it('fails naming every step when none finishes in time, and leaves the mount', async function () {
    this.timeout(60_000);
    stallingUmount(0, true);
    assert.throws(
      () => unmount(300, false),
      (err: NodeJS.ErrnoException) =>
        err.code === 'ETIMEDOUT' &&
        /^every umount step failed: umount -c \S+ did not finish within 300ms; umount -c -i -f \S+ did not finish within 300ms; umount -c -i -l \S+ did not finish within 300ms$/.test(
          err.message,
        ),
    );
    assert.equal((await mountsAt(target())).length, 1);
  });
});
