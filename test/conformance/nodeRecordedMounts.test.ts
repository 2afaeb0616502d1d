import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readMountTable } from '../../src/mount/mountTable';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, mountCap, stopAndClean, unmountLeftovers } from './conformanceKit';

/**
 * The driver takes a mount at a path as its own only when its node state records that mount
 * there, and it acts on staging and target paths as resolved without following symlinks.
 */
describe('conformance: node mounts are recognised by their record, not by their path or source text', () => {
  let d: DriverProcess;
  let volumeId: string;
  let outside: string;
  let context: Record<string, string>;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-recorded');
    context = { backend: 'local', volumeDir: `volumes/${volumeId}/data` };
    outside = mkdtempSync(path.join(os.tmpdir(), 'csi-recorded-outside-'));
  });
  after(async () => {
    await unmountLeftovers(outside);
    await stopAndClean(d);
    rmSync(outside, { recursive: true, force: true });
  });
  const n = () => d.client.node;
  const mountedAt = async (p: string) => (await readMountTable()).filter((e) => e.mountPoint === p).length;
  const stage = (staging: string) =>
    n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging, volume_capability: mountCap(), volume_context: context });
  const publish = (staging: string, target: string) =>
    n().NodePublishVolume({
      volume_id: volumeId,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap(),
      readonly: false,
      volume_context: context,
    });

  it('refuses NodePublish with the staging path as target (INVALID_ARGUMENT), and the staging mount stays a staging mount', async () => {
    const staging = path.join(d.dirs.root, 'kubelet', 'staging', 'same');
    await stage(staging);
    await expectCode(publish(staging, staging), grpc.status.INVALID_ARGUMENT);
    assert.equal(await mountedAt(staging), 1);
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
    assert.equal(await mountedAt(staging), 0);
  });

  it('refuses NodeUnpublish of a staging path under a live publish (FAILED_PRECONDITION), unmounting nothing', async () => {
    const staging = path.join(d.dirs.root, 'kubelet', 'staging', 'live');
    const target = path.join(d.dirs.root, 'kubelet', 'pods', 'live', 'mount');
    await stage(staging);
    await publish(staging, target);
    await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: staging }), grpc.status.FAILED_PRECONDITION);
    await expectCode(n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: target }), grpc.status.FAILED_PRECONDITION);
    assert.deepEqual([await mountedAt(staging), await mountedAt(target)], [1, 1]);
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
    assert.deepEqual([await mountedAt(staging), await mountedAt(target)], [0, 0]);
  });

  it('never adopts or unmounts a foreign mount whose source text ends in /volumes/<id>/data', async () => {
    const target = path.join(d.dirs.root, 'kubelet', 'pods', 'fake', 'mount');
    const staging = path.join(d.dirs.root, 'kubelet', 'staging', 'fake');
    for (const p of [target, staging]) {
      mkdirSync(p, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', `/srv/share/volumes/${volumeId}/data`, p]);
      writeFileSync(path.join(p, 'keep'), 'foreign');
    }
    try {
      await expectCode(stage(staging), grpc.status.FAILED_PRECONDITION);
      await expectCode(n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging }), grpc.status.FAILED_PRECONDITION);
      await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target }), grpc.status.FAILED_PRECONDITION);
      for (const p of [target, staging]) {
        assert.equal(await mountedAt(p), 1, `${p} was unmounted`);
        assert.ok(existsSync(path.join(p, 'keep')));
      }
    } finally {
      for (const p of [target, staging]) execFileSync('umount', [p]);
    }
  });

  it('refuses to unpublish a recorded target whose parent became a symlink out of the kubelet dir (INVALID_ARGUMENT), removing nothing there', async () => {
    const staging = path.join(d.dirs.root, 'kubelet', 'staging', 'moved');
    const pod = path.join(d.dirs.root, 'kubelet', 'pods', 'moved');
    const target = path.join(pod, 'mount');
    await stage(staging);
    await publish(staging, target);
    // The pod directory is moved aside (the mount goes with it) and replaced by a symlink to an
    // outside directory holding an empty "mount" directory: an rmdir by path would remove it.
    mkdirSync(path.join(outside, 'mount'));
    renameSync(pod, `${pod}-aside`);
    symlinkSync(outside, pod);
    await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target }), grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(readdirSync(outside), ['mount']);
    assert.equal(await mountedAt(path.join(`${pod}-aside`, 'mount')), 1);
    unlinkSync(pod);
    renameSync(`${pod}-aside`, pod);
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
    assert.deepEqual([await mountedAt(target), await mountedAt(staging)], [0, 0]);
  });
});
