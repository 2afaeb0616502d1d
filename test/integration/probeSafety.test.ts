import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsHelperPool } from '../../src/isolation/fsHelperPool';
import type { ProbeItem } from '../../src/isolation/fsOps';
import { hiddenDir } from '../../src/health/probeMount';
import { probeFilePrefixOf } from '../../src/isolation/probeItem';
import { unmountLeftovers } from '../helpers/cleanup';

/**
 * The probe writes into volumes that pods write too. Whatever a pod puts where the probe works
 * (a symlink, a file, a directory of its own), the probe must never follow it, must say so, and
 * must leave no file behind when it fails.
 */
describe('probe safety against hostile volume content', function () {
  let pool: FsHelperPool;
  let root: string;
  let vol: string;
  let outside: string;
  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    pool = new FsHelperPool({ probeHelpers: 1 });
  });
  after(() => pool?.close());
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'probe-safety-'));
    vol = path.join(root, 'vol');
    outside = path.join(root, 'outside');
    mkdirSync(vol);
    mkdirSync(outside);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'probe-safety', vol]);
  });
  afterEach(async () => {
    await unmountLeftovers(root);
    rmSync(root, { recursive: true, force: true });
  });

  const probe = async (item: Partial<ProbeItem> = {}) =>
    (await pool.probeRound([{ path: vol, write: true, hiddenDir, requireMount: true, ...item }], 20_000).done).results[0];

  it('never follows a symlink put in place of the probe directory: reports ProbeDirectoryTampered, moves it aside, and works in a fresh directory', async () => {
    symlinkSync(outside, path.join(vol, hiddenDir));
    const first = await probe();
    assert.equal(first?.ok, false);
    assert.equal(first?.code, 'ETAMPERED');
    assert.deepEqual(readdirSync(outside), [], 'nothing was created where the symlink pointed');
    const st = lstatSync(path.join(vol, hiddenDir));
    assert.ok(st.isDirectory() && !st.isSymbolicLink(), 'the probe directory is a real directory again');
    assert.equal(st.mode & 0o777, 0o700);
    const displaced = readdirSync(vol).filter((n) => n.startsWith(`${hiddenDir}.displaced-`));
    assert.equal(displaced.length, 1, "the pod's symlink was moved aside, not deleted");
    assert.ok(lstatSync(path.join(vol, displaced[0]!)).isSymbolicLink());
    assert.equal((await probe())?.ok, true, 'the next probe works');
  });

  it('does not reveal whether a host path exists: a symlink to a missing path is tampering, not VolumeNotFound', async () => {
    symlinkSync('/definitely/not/here', path.join(vol, hiddenDir));
    const r = await probe();
    assert.equal(r?.code, 'ETAMPERED');
    assert.equal(existsSync('/definitely/not/here'), false);
  });

  it("replaces a directory of the probe's name that the driver did not make (open to others), without touching its files", async () => {
    mkdirSync(path.join(vol, hiddenDir), { mode: 0o777 });
    execFileSync('chmod', ['0777', path.join(vol, hiddenDir)]);
    writeFileSync(path.join(vol, hiddenDir, 'user-file'), 'mine');
    const r = await probe();
    assert.equal(r?.code, 'ETAMPERED');
    const displaced = readdirSync(vol).find((n) => n.startsWith(`${hiddenDir}.displaced-`));
    assert.ok(displaced);
    assert.deepEqual(readdirSync(path.join(vol, displaced)), ['user-file']);
  });

  it('leaves no probe file behind when the write fails on a full volume, and reports ENOSPC', async () => {
    assert.equal((await probe())?.ok, true);
    // Fill the volume to the last block.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${path.join(vol, 'fill')}`, 'bs=64k'], { stdio: 'ignore' });
    } catch {
      // dd stops with "No space left on device", which is the point
    }
    const r = await probe();
    assert.equal(r?.ok, false);
    assert.equal(r?.code, 'ENOSPC');
    assert.deepEqual(readdirSync(path.join(vol, hiddenDir)), [], 'the failed probe removed its file');
  });

  it('sweeps files that killed probes of this mount point left, when asked, and leaves those of other mount points', async () => {
    assert.equal((await probe())?.ok, true);
    const dir = path.join(vol, hiddenDir);
    // Its own leftover, one of a driver version that did not tag them, and the file of a probe
    // of another mount of the same volume (a publish target) that may be running right now.
    const other = `${probeFilePrefixOf('/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pvc/mount')}0123`;
    writeFileSync(path.join(dir, `${probeFilePrefixOf(vol)}leftover`), 'x');
    writeFileSync(path.join(dir, 'probe-0123456789abcdef01234567'), 'x');
    writeFileSync(path.join(dir, other), 'x');
    assert.equal((await probe({ sweep: true }))?.ok, true);
    assert.deepEqual(readdirSync(dir), [other]);
  });

  it('refuses a mount path that no longer leads to its own mount (a directory on the way was replaced)', async () => {
    // Shadow the volume's parent with another tree that has a directory of the same name:
    // the mount table still lists the volume at its path, but the path now leads elsewhere.
    const decoy = path.join(root, 'decoy');
    mkdirSync(path.join(decoy, 'vol'), { recursive: true });
    execFileSync('mount', ['--bind', decoy, root]);
    try {
      const r = await probe();
      assert.equal(r?.ok, false);
      assert.equal(r?.code, 'EWRONGMOUNT');
      assert.deepEqual(readdirSync(path.join(root, 'vol')), [], 'nothing was written into the decoy');
    } finally {
      execFileSync('umount', [root]);
    }
    assert.ok(statSync(vol).isDirectory());
  });
});
