import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { getJson } from '../../helpers/bindfs';
import { stopAndClean } from '../../helpers/cleanup';
import { grpc } from '../../helpers/csiClient';
import { startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { mountCap } from '../../helpers/publish';
import { scaled } from '../reliabilityScale';
import { codeName, retryAsCo, settle, valueOf, type Outcome } from './coRetry';
import { archiveListing, auditShare, mountsByPath, readNodeState, showsVolume } from './shareAudit';
import { seedFrom, seededRandom } from './seededRandom';

const MiB = 1024 * 1024;
const { OK, ABORTED, NOT_FOUND, FAILED_PRECONDITION } = grpc.status;

/** One kind of call in the storm, the codes the spec allows it in any order, and a check of its answer. */
interface StormCall {
  rpc: string;
  allowed: grpc.status[];
  run: () => Promise<unknown>;
  /**
   * Checks a successful answer (and what it made) once the storm is over; `recreated` says the
   * volume may have been deleted and made again (empty) during the storm.
   */
  verify?: (value: unknown, recreated: boolean) => void;
}

describe('concurrency: different operations on one volume at once', function () {
  this.timeout(scaled(120_000, 1_200_000));
  const random = seededRandom(seedFrom('CONCURRENCY_SEED'));
  const rounds = scaled(15, 150);
  const name = 'pvc-mixed';
  let d: DriverProcess;
  let staging: string;
  let target: string;
  /** The files written into the volume before each storm: any snapshot or clone made must hold all of them. */
  let files: Map<string, Buffer>;

  before(async () => {
    console.log(`      concurrency seed ${random.seed} (CONCURRENCY_SEED=${random.seed} replays the same choices; timing still varies)`);
    d = await startDriverProcess(['--health-check-interval', '1s', '--health-check-timeout', '500ms'], undefined, { health: true });
    staging = path.join(d.dirs.root, 'staging', name);
    target = path.join(d.dirs.root, 'pods', 'mixed', 'mount');
  });
  after(async () => stopAndClean(d));

  const dataDir = (id: string) => path.join(d.dirs.share, 'volumes', id, 'data');

  /** A copy of the volume holds all its files intact, or none when the volume was made again (empty) first: never a part. */
  const sameFiles = (dir: string, what: string, recreated: boolean) => {
    const present = [...files.keys()].filter((f) => existsSync(path.join(dir, f)));
    if (present.length === 0 && recreated) return;
    for (const [f, content] of files)
      assert.ok(existsSync(path.join(dir, f)) && readFileSync(path.join(dir, f)).equals(content), `${what} holds ${f} intact`);
  };

  function stormCalls(round: number): StormCall[] {
    const { controller, node } = d.client;
    const cloneName = `pvc-mixed-clone-${round}`;
    const snapName = (k: number) => `snap-mixed-${round}-${k}`;
    const snapshotCall = (k: number): StormCall => ({
      rpc: 'CreateSnapshot',
      allowed: [OK, ABORTED, NOT_FOUND],
      run: () => controller.CreateSnapshot({ name: snapName(k), source_volume_id: name, parameters: {}, secrets: {} }),
      verify: (_v, recreated) => {
        const listed = archiveListing(d.dirs.share, snapName(k))
          .map((f) => f.replace(/^\.\//, ''))
          .filter((f) => !f.endsWith('/'));
        if (listed.length === 0 && recreated) return;
        assert.deepEqual(listed.sort(), [...files.keys()].sort(), `snapshot ${snapName(k)} archived every file of the volume`);
      },
    });
    return [
      // FAILED_PRECONDITION: deleted while staged, a health probe wrote into it (volume in use).
      { rpc: 'DeleteVolume', allowed: [OK, ABORTED, FAILED_PRECONDITION], run: () => controller.DeleteVolume({ volume_id: name }) },
      { rpc: 'DeleteVolume', allowed: [OK, ABORTED, FAILED_PRECONDITION], run: () => controller.DeleteVolume({ volume_id: name }) },
      snapshotCall(0),
      snapshotCall(1),
      {
        rpc: 'ControllerExpandVolume',
        allowed: [OK, ABORTED, NOT_FOUND],
        run: () =>
          controller.ControllerExpandVolume({ volume_id: name, capacity_range: { required_bytes: String(2 * MiB), limit_bytes: '0' } }),
        verify: (v) => assert.equal((v as { capacity_bytes: string }).capacity_bytes, String(2 * MiB)),
      },
      {
        rpc: 'CreateVolume',
        allowed: [OK, ABORTED],
        run: () =>
          controller.CreateVolume({
            name,
            volume_capabilities: [mountCap],
            capacity_range: { required_bytes: String(MiB), limit_bytes: '0' },
          }),
      },
      {
        rpc: 'CreateVolume(clone)',
        allowed: [OK, ABORTED, NOT_FOUND],
        run: () =>
          controller.CreateVolume({
            name: cloneName,
            volume_capabilities: [mountCap],
            volume_content_source: { volume: { volume_id: name } },
          }),
        verify: (_v, recreated) => sameFiles(dataDir(cloneName), `clone ${cloneName}`, recreated),
      },
      {
        rpc: 'NodeStageVolume',
        allowed: [OK, ABORTED, NOT_FOUND],
        run: () => node.NodeStageVolume({ volume_id: name, staging_target_path: staging, volume_capability: mountCap, volume_context: {} }),
      },
      {
        rpc: 'NodeUnstageVolume',
        allowed: [OK, ABORTED],
        run: () => node.NodeUnstageVolume({ volume_id: name, staging_target_path: staging }),
      },
      {
        rpc: 'NodePublishVolume',
        allowed: [OK, ABORTED, FAILED_PRECONDITION, NOT_FOUND],
        run: () =>
          node.NodePublishVolume({
            volume_id: name,
            staging_target_path: staging,
            target_path: target,
            volume_capability: mountCap,
            readonly: false,
            volume_context: {},
          }),
      },
      { rpc: 'NodeUnpublishVolume', allowed: [OK, ABORTED], run: () => node.NodeUnpublishVolume({ volume_id: name, target_path: target }) },
      {
        rpc: 'ControllerGetVolume',
        allowed: [OK, NOT_FOUND],
        run: () => controller.ControllerGetVolume({ volume_id: name }),
        verify: (v) => {
          const vol = (v as { volume: { volume_id: string; capacity_bytes: string } }).volume;
          assert.equal(vol.volume_id, name);
          assert.ok([String(MiB), String(2 * MiB)].includes(vol.capacity_bytes), `capacity ${vol.capacity_bytes}`);
        },
      },
      {
        rpc: 'ValidateVolumeCapabilities',
        allowed: [OK, NOT_FOUND],
        run: () =>
          controller.ValidateVolumeCapabilities({
            volume_id: name,
            volume_capabilities: [mountCap],
            volume_context: {},
            parameters: {},
            secrets: {},
            mutable_parameters: {},
          }),
      },
      { rpc: 'ListVolumes', allowed: [OK], run: () => controller.ListVolumes({ max_entries: 0, starting_token: '' }) },
      {
        rpc: 'ListSnapshots',
        allowed: [OK],
        run: () => controller.ListSnapshots({ max_entries: 0, starting_token: '', source_volume_id: name, snapshot_id: '' }),
      },
      {
        rpc: 'NodeGetVolumeStats',
        allowed: [OK, NOT_FOUND],
        run: () => node.NodeGetVolumeStats({ volume_id: name, volume_path: staging, staging_target_path: '' }),
      },
      {
        rpc: 'ControllerGetVolumeHealth',
        allowed: [OK, NOT_FOUND],
        run: () => controller.ControllerGetVolumeHealth({ volume_id: name, secrets: {} }),
      },
    ];
  }

  /** Everything on disk, in the mount table, in the node records and in the monitor agrees and parses. */
  async function checkConsistent(deleted: boolean, deleteRefused: boolean): Promise<void> {
    const audit = auditShare(d.dirs.share);
    // A refused delete has taken the record already (so the volume is never listed half-deleted);
    // the directory goes with the CO's retry of DeleteVolume, which cleanUp makes and checks.
    const halfDeleted = `${path.join(d.dirs.share, 'volumes', name)} has no volume.json (an orphaned or unfinished volume)`;
    const problems = audit.problems.filter((p) => !(deleteRefused && p === halfDeleted));
    assert.deepEqual(problems, [], 'no half-written record, stray temp file or orphaned directory on the share');
    for (const snap of audit.snapshots.values()) assert.equal(snap.sourceVolumeId, name);
    const vol = audit.volumes.get(name);
    if (vol) assert.ok([MiB, 2 * MiB].includes(vol.capacityBytes), `capacity ${vol.capacityBytes}: as made or as expanded`);
    const mounts = await mountsByPath(d.dirs.root);
    for (const [p, entries] of mounts) {
      assert.equal(entries.length, 1, `${p} is mounted once, not stacked`);
      assert.ok([staging, target].includes(p), `${p} is a mount the test made`);
    }
    const state = readNodeState(d.dirs.state);
    assert.deepEqual(state.strayFiles, []);
    assert.deepEqual(state.records.map((r) => r.path).sort(), [...mounts.keys()].sort(), 'node records agree with the mount table');
    const monitored = (await getJson(d.healthPort!, '/healthz/mounts')).body as Record<string, unknown>;
    assert.deepEqual(Object.keys(monitored).sort(), [...mounts.keys()].sort(), 'the monitor watches exactly the mounts');
    const stagedAt = mounts.get(staging)?.[0];
    if (stagedAt && !showsVolume(stagedAt, name)) {
      // Only a volume deleted while staged leaves its staging mount on a deleted directory, and
      // the next NodeStageVolume mounts the volume again (or says it is gone).
      assert.ok(deleted && stagedAt.root.endsWith('//deleted'), `staging shows ${stagedAt.root}`);
      const out = await retryAsCo(() =>
        d.client.node.NodeStageVolume({ volume_id: name, staging_target_path: staging, volume_capability: mountCap, volume_context: {} }),
      );
      if (audit.volumes.has(name)) {
        valueOf('NodeStageVolume of the volume made again', out);
        const again = (await mountsByPath(d.dirs.root)).get(staging) ?? [];
        assert.equal(again.length, 1);
        assert.ok(showsVolume(again[0]!, name), `staging shows ${again[0]!.root} after NodeStageVolume`);
      } else {
        assert.equal(out.code, NOT_FOUND, `NodeStageVolume of a deleted volume: ${codeName(out.code)}`);
      }
    }
  }

  /** Takes everything down, as a CO would after the storm, and checks nothing is left. */
  async function cleanUp(round: number): Promise<void> {
    const { controller, node } = d.client;
    valueOf('NodeUnpublishVolume', await retryAsCo(() => node.NodeUnpublishVolume({ volume_id: name, target_path: target })));
    valueOf('NodeUnstageVolume', await retryAsCo(() => node.NodeUnstageVolume({ volume_id: name, staging_target_path: staging })));
    for (const id of [name, `pvc-mixed-clone-${round}`])
      valueOf('DeleteVolume', await retryAsCo(() => controller.DeleteVolume({ volume_id: id })));
    for (const s of auditShare(d.dirs.share).snapshots.keys())
      valueOf('DeleteSnapshot', await retryAsCo(() => controller.DeleteSnapshot({ snapshot_id: s, secrets: {} })));
    const audit = auditShare(d.dirs.share);
    assert.deepEqual([audit.volumes.size, audit.snapshots.size, audit.problems], [0, 0, []]);
    assert.deepEqual([...(await mountsByPath(d.dirs.root)).keys()], []);
    assert.equal(existsSync(target) || existsSync(staging), false);
  }

  it(`answers each call OK, ABORTED or a code its order allows, and leaves consistent metadata (${rounds} rounds)`, async () => {
    const tally = new Map<string, Map<string, number>>();
    for (let round = 0; round < rounds; round++) {
      valueOf(
        'CreateVolume',
        await retryAsCo(() =>
          d.client.controller.CreateVolume({
            name,
            volume_capabilities: [mountCap],
            capacity_range: { required_bytes: String(MiB), limit_bytes: '0' },
          }),
        ),
      );
      // Some data, with a larger incompressible file so that a snapshot or clone takes a while.
      files = new Map([
        ['marker.txt', Buffer.from(`round ${round}\n`)],
        ['nested/deep.bin', randomBytes(64 * 1024)],
        ['big.bin', randomBytes(1 * MiB)],
      ]);
      for (const [f, content] of files) {
        mkdirSync(path.dirname(path.join(dataDir(name), f)), { recursive: true });
        writeFileSync(path.join(dataDir(name), f), content);
      }
      if (random.chance(0.5)) {
        await d.client.node.NodeStageVolume({
          volume_id: name,
          staging_target_path: staging,
          volume_capability: mountCap,
          volume_context: {},
        });
        if (random.chance(0.5)) {
          await d.client.node.NodePublishVolume({
            volume_id: name,
            staging_target_path: staging,
            target_path: target,
            volume_capability: mountCap,
            readonly: false,
            volume_context: {},
          });
        }
      }

      const calls = random.shuffle(stormCalls(round).filter(() => random.chance(0.8)));
      const outcomes: Array<{ c: StormCall; out: Outcome<unknown> }> = await Promise.all(
        calls.map(async (c) => {
          // Half the callers retry ABORTED as a CO does, so every kind of call really runs against the others.
          const [delay, retries] = [random.int(8), random.chance(0.5)];
          await new Promise((r) => setTimeout(r, delay));
          return { c, out: retries ? await retryAsCo(c.run) : await settle(c.run()) };
        }),
      );
      for (const { c, out } of outcomes) {
        const byCode = tally.get(c.rpc) ?? new Map<string, number>();
        byCode.set(codeName(out.code), (byCode.get(codeName(out.code)) ?? 0) + 1);
        tally.set(c.rpc, byCode);
        assert.ok(
          c.allowed.includes(out.code),
          `round ${round}: ${c.rpc} answered ${codeName(out.code)}${out.code === OK ? '' : `: ${out.details}`}`,
        );
      }
      const succeeded = (rpc: string) => outcomes.some(({ c, out }) => c.rpc === rpc && out.code === OK);
      const recreated = succeeded('DeleteVolume') && succeeded('CreateVolume');
      for (const { c, out } of outcomes) if (out.code === OK) c.verify?.(out.value, recreated);
      await checkConsistent(
        succeeded('DeleteVolume'),
        outcomes.some(({ c, out }) => c.rpc === 'DeleteVolume' && out.code === FAILED_PRECONDITION),
      );
      await cleanUp(round);
    }
    console.log(
      `      answers over ${rounds} rounds: ${[...tally]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([rpc, codes]) => `${rpc} ${[...codes].map(([c, n]) => `${c}=${n}`).join('/')}`)
        .join('; ')}`,
    );
  });
});
