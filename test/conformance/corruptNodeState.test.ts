import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { driverDirs, startDriverProcess, type DriverDirs, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, mountCap, mountsUnder, stopAndClean } from './conformanceKit';

describe('conformance: a corrupt node state file at start', () => {
  let dirs: DriverDirs;
  let d: DriverProcess | undefined;
  let id = '';
  const stateFile = () => path.join(dirs.state, 'node-mounts.json');
  const staging = () => path.join(dirs.root, 'kubelet', 'staging', 'a');
  const target = () => path.join(dirs.root, 'kubelet', 'pods', 'p1', 'mount');
  const targetRo = () => path.join(dirs.root, 'kubelet', 'pods', 'p2', 'mount');

  before(async () => {
    dirs = driverDirs('csi-test-state-');
    const first = await startDriverProcess([], dirs);
    const n = first.client.node;
    id = await createVolume(first.client, 'pvc-state-a', GiB);
    await n.NodeStageVolume({ volume_id: id, staging_target_path: staging(), volume_capability: mountCap() });
    await n.NodePublishVolume({ volume_id: id, staging_target_path: staging(), target_path: target(), volume_capability: mountCap() });
    await n.NodePublishVolume({
      volume_id: id,
      staging_target_path: staging(),
      target_path: targetRo(),
      volume_capability: mountCap(),
      readonly: true,
    });
    assert.equal(await first.stop(), 0);
    writeFileSync(stateFile(), '[{"volumeId": "pvc-state-a", "path": ');
    d = await startDriverProcess([], dirs, { health: true });
  });
  after(async () => {
    if (d) await stopAndClean(d);
  });

  it('starts, reports the corruption in its log and metrics, and keeps the bad file aside', async () => {
    assert.match(d!.logText(), /node state file is corrupt; mount records rebuilt from the mount table/);
    assert.equal(readFileSync(`${stateFile()}.corrupt`, 'utf8'), '[{"volumeId": "pvc-state-a", "path": ');
    const metrics = await (await fetch(`http://127.0.0.1:${d!.healthPort}/metrics`)).text();
    assert.match(metrics, /^csi_driver_node_state_rebuilt 1$/m);
    const records = JSON.parse(readFileSync(stateFile(), 'utf8')) as Array<{ path: string; kind: string; readOnly: boolean }>;
    assert.deepEqual(
      records.map((r) => [r.path, r.kind, r.readOnly]).sort(),
      [
        [staging(), 'staging', false],
        [target(), 'publish', false],
        [targetRo(), 'publish', true],
      ].sort(),
    );
  });

  it('knows the rebuilt mounts: stats answer, and a publish that contradicts one is ALREADY_EXISTS', async () => {
    const stats = await d!.client.node.NodeGetVolumeStats({ volume_id: id, volume_path: target() });
    assert.ok(stats.usage.length > 0);
    await expectCode(
      d!.client.node.NodePublishVolume({
        volume_id: id,
        staging_target_path: staging(),
        target_path: targetRo(),
        volume_capability: mountCap(),
        readonly: false,
      }),
      grpc.status.ALREADY_EXISTS,
    );
  });

  it('unpublishes and unstages the rebuilt mounts, leaving no mount and no record behind', async () => {
    const n = d!.client.node;
    await n.NodeUnpublishVolume({ volume_id: id, target_path: target() });
    await n.NodeUnpublishVolume({ volume_id: id, target_path: targetRo() });
    await n.NodeUnstageVolume({ volume_id: id, staging_target_path: staging() });
    assert.deepEqual(await mountsUnder(dirs.root), []);
    assert.equal(existsSync(target()), false);
    assert.deepEqual(JSON.parse(readFileSync(stateFile(), 'utf8')), []);
  });
});
