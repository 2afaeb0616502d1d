import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, mountCap, mountPoints, stopAndClean } from './conformanceKit';

/**
 * Staging and target paths must be under --kubelet-dir (the tests' temp root here) and outside
 * the driver's own directories: otherwise a caller could make the driver create directories
 * anywhere, mount over system paths, or unmount the host's mounts.
 */
describe('conformance: staging and target paths stay under --kubelet-dir', () => {
  let d: DriverProcess;
  let volumeId: string;
  /** A directory outside the kubelet dir, with a tmpfs mounted in it that is not the driver's. */
  let outside: string;
  let foreignMount: string;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
    volumeId = await createVolume(d.client, 'pvc-node-paths');
    outside = mkdtempSync(path.join(os.tmpdir(), 'csi-outside-'));
    foreignMount = path.join(outside, 'foreign');
    mkdirSync(foreignMount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'csi-foreign', foreignMount]);
    writeFileSync(path.join(foreignMount, 'keep'), "not the driver's");
  });
  after(async () => {
    try {
      execFileSync('umount', ['-l', foreignMount], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    rmSync(outside, { recursive: true, force: true });
    await stopAndClean(d);
  });
  const n = () => d.client.node;
  const staging = () => path.join(d.dirs.root, 'kubelet', 'staging', 'ok');

  it('refuses to stage or publish outside the kubelet dir, and creates nothing there', async () => {
    const elsewhere = path.join(outside, 'new', 'mount');
    const e1 = await expectCode(
      n().NodeStageVolume({ volume_id: volumeId, staging_target_path: elsewhere, volume_capability: mountCap() }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.match(e1.details, /not under the kubelet directory/);
    await n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging(), volume_capability: mountCap() });
    await expectCode(
      n().NodePublishVolume({
        volume_id: volumeId,
        staging_target_path: staging(),
        target_path: elsewhere,
        volume_capability: mountCap(),
        readonly: false,
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      n().NodePublishVolume({
        volume_id: volumeId,
        staging_target_path: staging(),
        target_path: '/csi-never-made',
        volume_capability: mountCap(),
        readonly: false,
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(existsSync(path.join(outside, 'new')), false);
    assert.equal(existsSync('/csi-never-made'), false);
    assert.equal((await mountPoints()).filter((p) => p.startsWith(outside + '/new') || p === '/csi-never-made').length, 0);
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging() });
  });

  it('refuses to unpublish or unstage a mount outside the kubelet dir that it never made, and leaves it mounted', async () => {
    await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: foreignMount }), grpc.status.INVALID_ARGUMENT);
    await expectCode(n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: foreignMount }), grpc.status.INVALID_ARGUMENT);
    await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: '/proc' }), grpc.status.INVALID_ARGUMENT);
    assert.ok((await mountPoints()).includes(foreignMount), 'the foreign mount is still there');
    assert.equal(readFileSync(path.join(foreignMount, 'keep'), 'utf8'), "not the driver's");
  });

  it('refuses paths in its own share and state directories, and the kubelet dir itself', async () => {
    for (const p of [path.join(d.dirs.share, 'volumes', volumeId, 'data', 'loop'), path.join(d.dirs.state, 'x'), d.dirs.root]) {
      await expectCode(
        n().NodeStageVolume({ volume_id: volumeId, staging_target_path: p, volume_capability: mountCap() }),
        grpc.status.INVALID_ARGUMENT,
      );
    }
    assert.equal(existsSync(path.join(d.dirs.share, 'volumes', volumeId, 'data', 'loop')), false);
    assert.equal(existsSync(path.join(d.dirs.state, 'x')), false);
  });
});
