import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { getJson } from '../../helpers/bindfs';
import { stopAndClean } from '../../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { mountCap } from '../../helpers/publish';
import { scaled } from '../reliabilityScale';
import { retryAsCo, valueOf } from './coRetry';
import { assertHealthyCondition, mountsByPath, readNodeState, showsVolume } from './shareAudit';
import { seedFrom, seededRandom } from './seededRandom';

type Op = 'publish' | 'unpublish';

describe('concurrency: one staged volume published to and unpublished from many targets at once', function () {
  this.timeout(scaled(120_000, 900_000));
  const random = seededRandom(seedFrom('CONCURRENCY_SEED'));
  const volumeId = 'pvc-fanout';
  const targetCount = 30;
  const rounds = scaled(4, 25);
  let d: DriverProcess;
  let staging: string;
  let targets: Array<{ path: string; readOnly: boolean }>;

  before(async () => {
    console.log(`      concurrency seed ${random.seed} (CONCURRENCY_SEED=${random.seed} replays the same choices; timing still varies)`);
    // Probes run during the storm too: the monitor's registry is under the same concurrency.
    d = await startDriverProcess(['--health-check-interval', '1s', '--health-check-timeout', '500ms'], undefined, { health: true });
    const { volume } = await d.client.controller.CreateVolume({ name: volumeId, volume_capabilities: [mountCap] });
    assert.equal(volume!.volume_id, volumeId);
    staging = path.join(d.dirs.root, 'staging', volumeId);
    await d.client.node.NodeStageVolume({
      volume_id: volumeId,
      staging_target_path: staging,
      volume_capability: mountCap,
      volume_context: volume!.volume_context,
    });
    targets = Array.from({ length: targetCount }, (_, i) => ({
      path: path.join(d.dirs.root, 'pods', `pod-${i}`, 'mount'),
      readOnly: i % 5 === 4,
    }));
  });
  after(async () => stopAndClean(d));

  const call = (op: Op, t: { path: string; readOnly: boolean }) =>
    retryAsCo(
      () =>
        op === 'publish'
          ? d.client.node.NodePublishVolume({
              volume_id: volumeId,
              staging_target_path: staging,
              target_path: t.path,
              volume_capability: mountCap,
              readonly: t.readOnly,
              volume_context: {},
            })
          : d.client.node.NodeUnpublishVolume({ volume_id: volumeId, target_path: t.path }),
      { deadlineMs: 120_000 },
    );

  /** Mount table, node records, monitor and data all agree with the expected set of published targets. */
  async function checkConsistent(published: Set<string>, round: number): Promise<void> {
    const mounts = await mountsByPath(d.dirs.root);
    const stagingMounts = mounts.get(staging) ?? [];
    assert.equal(stagingMounts.length, 1, 'the staging path is mounted exactly once');
    assert.ok(showsVolume(stagingMounts[0]!, volumeId));
    for (const t of targets) {
      const at = mounts.get(t.path) ?? [];
      if (published.has(t.path)) {
        assert.equal(at.length, 1, `${t.path} is mounted exactly once (no stacked bind mounts)`);
        assert.ok(showsVolume(at[0]!, volumeId), `${t.path} shows the volume's data (${at[0]!.root})`);
        assert.equal(at[0]!.options.includes('ro'), t.readOnly, `${t.path} read-only setting`);
      } else {
        assert.equal(at.length, 0, `${t.path} is not mounted`);
        assert.equal(existsSync(t.path), false, `${t.path} was removed by NodeUnpublishVolume`);
      }
    }
    assert.deepEqual([...mounts.keys()].sort(), [staging, ...published].sort(), 'no mount under the run root that the test does not know');

    const state = readNodeState(d.dirs.state);
    assert.deepEqual(state.strayFiles, [], 'no temp file left in the state dir');
    const byPath = new Map(state.records.map((r) => [r.path, r]));
    assert.deepEqual([...byPath.keys()].sort(), [staging, ...published].sort(), 'the node state records exactly the mounts');
    for (const t of targets.filter((x) => published.has(x.path))) {
      const r = byPath.get(t.path)!;
      assert.deepEqual([r.volumeId, r.kind, r.readOnly, r.stagingPath], [volumeId, 'publish', t.readOnly, staging]);
    }
    const monitored = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<string, { volumeId: string; kind: string }>;
    assert.deepEqual(Object.keys(monitored).sort(), [staging, ...published].sort(), 'the monitor watches exactly the mounts');

    // One write through a writable target is seen through every other target and on the share.
    const live = targets.filter((t) => published.has(t.path));
    const writer = live.find((t) => !t.readOnly);
    if (writer) {
      const name = `round-${round}.txt`;
      const text = `written through ${writer.path} in round ${round}\n`;
      writeFileSync(path.join(writer.path, name), text);
      for (const t of live) assert.equal(readFileSync(path.join(t.path, name), 'utf8'), text, `read through ${t.path}`);
      assert.equal(readFileSync(path.join(d.dirs.share, 'volumes', volumeId, 'data', name), 'utf8'), text);
    }
    const ro = live.find((t) => t.readOnly);
    if (ro) assert.throws(() => writeFileSync(path.join(ro.path, 'nope.txt'), 'x'), /EROFS/);
    for (const t of live) {
      const stats = await d.client.node.NodeGetVolumeStats({ volume_id: volumeId, volume_path: t.path, staging_target_path: '' });
      assertHealthyCondition(stats.volume_condition, t.path);
    }
  }

  it(`ends with every target consistent after ${rounds} rounds of mixed concurrent publish/unpublish over ${targetCount} targets`, async () => {
    const published = new Set<string>();
    let calls = 0;
    let aborted = 0;
    for (let round = 0; round < rounds; round++) {
      // Per target a short sequence of operations (run in order), sometimes with a concurrent
      // duplicate of the last one; all targets at once. The last operation decides the end state.
      const work = targets.map(async (t) => {
        const plan: Op[] = Array.from({ length: 1 + random.int(3) }, () => (random.chance(0.55) ? 'publish' : 'unpublish'));
        const last = plan[plan.length - 1]!;
        const duplicate = random.chance(0.3) ? call(last, t) : undefined;
        for (const op of plan) {
          const out = await call(op, t);
          calls++;
          aborted += out.seen.length - 1;
          valueOf(`${op} ${t.path}`, out);
        }
        if (duplicate) {
          const out = await duplicate;
          calls++;
          aborted += out.seen.length - 1;
          valueOf(`duplicate ${last} ${t.path}`, out);
        }
        if (last === 'publish') published.add(t.path);
        else published.delete(t.path);
      });
      await Promise.all(work);
      await checkConsistent(published, round);
    }
    console.log(
      `      ${calls} publish/unpublish calls, ${aborted} ABORTED answers retried; ${published.size} targets published at the end`,
    );

    await Promise.all(targets.map((t) => call('unpublish', t).then((o) => valueOf('unpublish', o))));
    await d.client.node.NodeUnstageVolume({ volume_id: volumeId, staging_target_path: staging });
    await d.client.controller.DeleteVolume({ volume_id: volumeId });
    assert.deepEqual([...(await mountsByPath(d.dirs.root)).keys()], []);
    for (const t of targets) assert.equal(existsSync(t.path), false);
    assert.deepEqual(readNodeState(d.dirs.state).records, []);
  });
});
