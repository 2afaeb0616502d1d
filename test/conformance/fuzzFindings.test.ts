import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { driverDirs, startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, GiB, mountCap, mountPoints, stopAndClean } from './conformanceKit';

/**
 * Regressions of what test/reliability/fuzz found: each case is one finding, reduced to the
 * requests that showed it. Paths live under a kubelet directory of their own, as in the fuzzer.
 */
describe('conformance: findings of the fuzzer stay fixed', () => {
  let d: DriverProcess;
  let kubelet: string;
  let outside: string;
  let volumeId: string;
  const cap = mountCap();
  const c = () => d.client.controller;
  const n = () => d.client.node;
  const staging = (name = 'vol') => path.join(kubelet, 'plugins', 'staging', name);
  const target = (pod: string) => path.join(kubelet, 'pods', pod, 'volumes', 'mount');

  before(async () => {
    const dirs = driverDirs('csi-fuzzfix-');
    kubelet = path.join(dirs.root, 'kubelet');
    for (const pod of ['a', 'b', 'c']) mkdirSync(path.dirname(target(pod)), { recursive: true });
    mkdirSync(path.dirname(staging()), { recursive: true });
    outside = mkdtempSync(path.join(os.tmpdir(), 'csi-fuzzfix-outside-'));
    d = await startDriverProcess(['--kubelet-dir', kubelet, '--health-api', 'v1.12'], dirs);
    volumeId = await createVolume(d.client, 'pvc-fuzz-findings');
  });
  after(async () => {
    await stopAndClean(d);
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses a node volume id that looks like an EFS handle but is not one with INVALID_ARGUMENT, not INTERNAL', async () => {
    for (const bad of ['efs:fs-12345678:/../x', 'fs-1:/x']) {
      await expectCode(
        n().NodeStageVolume({ volume_id: bad, staging_target_path: staging(), volume_capability: cap }),
        grpc.status.INVALID_ARGUMENT,
      );
      await expectCode(n().NodeGetVolumeHealth({ volume_id: bad, staging_target_path: staging() }), grpc.status.INVALID_ARGUMENT);
    }
  });

  it('keeps error messages short: a 160 KB parameter key gets a bounded INVALID_ARGUMENT and the connection keeps serving', async () => {
    const key = '\u{1F4E6}'.repeat(40_960);
    const e = await expectCode(
      c().CreateVolume({ name: 'pvc-big-key', volume_capabilities: [cap], parameters: { [key]: 'x' } }, 10_000),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.ok(e.details.length <= 1100, `details of ${e.details.length} characters`);
    assert.equal((await d.client.identity.Probe({}, 2_000)).ready?.value, true);
  });

  it('checks CreateSnapshot parameters before anything else: INVALID_ARGUMENT, not NOT_FOUND or the existing snapshot', async () => {
    await expectCode(
      c().CreateSnapshot({ name: 'snap-params', source_volume_id: 'pvc-missing', parameters: { bogus: 'x' } }),
      grpc.status.INVALID_ARGUMENT,
    );
    await c().CreateSnapshot({ name: 'snap-params', source_volume_id: volumeId });
    await expectCode(
      c().CreateSnapshot({ name: 'snap-params', source_volume_id: volumeId, parameters: { bogus: 'x' } }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('refuses to grow a volume beyond the whole share with OUT_OF_RANGE, as CreateVolume does', async () => {
    await expectCode(
      c().ControllerExpandVolume({ volume_id: volumeId, capacity_range: { required_bytes: String(2 ** 50) } }),
      grpc.status.OUT_OF_RANGE,
    );
    assert.equal((await c().ControllerGetVolume({ volume_id: volumeId })).volume?.capacity_bytes, String(GiB));
  });

  it('refuses staging and target paths the file system cannot take (a name too long, a file on the way or at the end) with INVALID_ARGUMENT', async () => {
    const file = path.join(kubelet, 'pods', 'a', 'etc-hosts');
    writeFileSync(file, '127.0.0.1 localhost\n');
    const tooLong = path.join(kubelet, 'plugins', 'staging', 'x'.repeat(256));
    await expectCode(
      n().NodeStageVolume({ volume_id: volumeId, staging_target_path: tooLong, volume_capability: cap }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: tooLong }), grpc.status.INVALID_ARGUMENT);
    await n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging(), volume_capability: cap });
    for (const bad of [file, path.join(file, 'mount')]) {
      await expectCode(
        n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging(), target_path: bad, volume_capability: cap }),
        grpc.status.INVALID_ARGUMENT,
      );
      await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: bad }), grpc.status.INVALID_ARGUMENT);
    }
    assert.equal(readFileSync(file, 'utf8'), '127.0.0.1 localhost\n');
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging() });
  });

  it('refuses paths that go through a symlink out of the kubelet dir, and neither creates nor mounts anything where it points', async () => {
    const link = path.join(kubelet, 'pods', 'link-out');
    symlinkSync(outside, link);
    await expectCode(
      n().NodeStageVolume({ volume_id: volumeId, staging_target_path: path.join(link, 'staging'), volume_capability: cap }),
      grpc.status.INVALID_ARGUMENT,
    );
    await n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging(), volume_capability: cap });
    for (const t of [link, path.join(link, 'mount')]) {
      const e = await expectCode(
        n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging(), target_path: t, volume_capability: cap }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.match(e.details, /symbolic link/);
      await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: t }), grpc.status.INVALID_ARGUMENT);
    }
    assert.deepEqual(readdirSync(outside), []);
    assert.equal((await mountPoints()).filter((p) => p.startsWith(outside)).length, 0);
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging() });
  });

  it("never adopts, binds into a pod or unmounts another driver's mount in the kubelet dir", async () => {
    const foreign = path.join(kubelet, 'plugins', 'other.driver', 'globalmount');
    mkdirSync(foreign, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'csi-foreign', foreign]);
    writeFileSync(path.join(foreign, 'keep'), 'not ours');
    const fp = grpc.status.FAILED_PRECONDITION;
    await expectCode(n().NodeStageVolume({ volume_id: volumeId, staging_target_path: foreign, volume_capability: cap }), fp);
    await expectCode(
      n().NodePublishVolume({ volume_id: volumeId, staging_target_path: foreign, target_path: target('a'), volume_capability: cap }),
      fp,
    );
    await expectCode(n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: foreign }), fp);
    await expectCode(n().NodeUnpublishVolume({ volume_id: volumeId, target_path: foreign }), fp);
    assert.equal(readFileSync(path.join(foreign, 'keep'), 'utf8'), 'not ours');
    assert.equal(existsSync(target('a')), false, 'nothing was published');
    execFileSync('umount', [foreign]);
  });

  it('never lets calls of two volumes on one staging path interleave: no mount stacks there, none lands in the share', async () => {
    const other = await createVolume(d.client, 'pvc-fuzz-other');
    const shared = staging('contended');
    const calls = (id: string) => [
      n().NodeStageVolume({ volume_id: id, staging_target_path: shared, volume_capability: cap }),
      n().NodeUnstageVolume({ volume_id: id, staging_target_path: shared }),
    ];
    for (let round = 0; round < 20; round++) {
      await Promise.allSettled([...calls(volumeId), ...calls(other)]);
      const mounts = await mountPoints();
      assert.ok(mounts.filter((p) => p === shared).length <= 1, `round ${round}: mounts stacked at the staging path`);
      assert.deepEqual(
        mounts.filter((p) => p.startsWith(d.dirs.share)),
        [],
        `round ${round}: a mount in the share`,
      );
    }
    for (const id of [volumeId, other])
      await n()
        .NodeUnstageVolume({ volume_id: id, staging_target_path: shared })
        .catch(() => undefined);
    assert.equal((await mountPoints()).filter((p) => p.startsWith(kubelet)).length, 0);
  });

  it('publishes only from a staging path, and never into or over another mount', async () => {
    await n().NodeStageVolume({ volume_id: volumeId, staging_target_path: staging(), volume_capability: cap });
    await n().NodePublishVolume({ volume_id: volumeId, staging_target_path: staging(), target_path: target('a'), volume_capability: cap });
    // A publish target is not a staging path.
    await expectCode(
      n().NodePublishVolume({ volume_id: volumeId, staging_target_path: target('a'), target_path: target('b'), volume_capability: cap }),
      grpc.status.FAILED_PRECONDITION,
    );
    // Inside a mount, the target's directory would be made in the volume; over mounts, it would hide them.
    await expectCode(
      n().NodePublishVolume({
        volume_id: volumeId,
        staging_target_path: staging(),
        target_path: path.join(staging(), 'nested'),
        volume_capability: cap,
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      n().NodePublishVolume({
        volume_id: volumeId,
        staging_target_path: staging(),
        target_path: path.join(kubelet, 'pods'),
        volume_capability: cap,
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    const data = path.join(d.dirs.share, 'volumes', volumeId, 'data');
    assert.deepEqual(
      readdirSync(data).filter((f) => f !== '.csi-health'),
      [],
      'nothing was made in the volume',
    );
    await n().NodeUnpublishVolume({ volume_id: volumeId, target_path: target('a') });
    await n().NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging() });
    assert.equal((await mountPoints()).filter((p) => p.startsWith(kubelet)).length, 0);
  });
});
