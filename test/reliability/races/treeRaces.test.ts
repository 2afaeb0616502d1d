import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { grpc } from '../../helpers/csiClient';
import { createVolume, stopAndClean, volumeRequest } from '../../conformance/conformanceKit';
import { fullReliability, scaled } from '../reliabilityScale';
import {
  dataDir,
  leakedMarkers,
  outsideProblems,
  plantFlip,
  restoreOutside,
  startTreeRaceWorld,
  whileFlipping,
  type TreeRaceWorld,
} from './treeRaceWorld';

/** Swaps each class must reach in the full run. */
const fullSwaps = 10_000;

interface ClassTally {
  rounds: number;
  swaps: number;
  failures: string[];
}

function codeOf(err: unknown): number | undefined {
  return (err as grpc.ServiceError | undefined)?.code;
}

/** Records a round's problems (and repairs the trap and tenant B, so the next round starts clean). */
function check(w: TreeRaceWorld, t: ClassTally, round: string, extra: string[]): void {
  const problems = [...extra, ...outsideProblems(w)];
  if (problems.length > 0) {
    t.failures.push(`${round}: ${problems.join('; ')}`);
    restoreOutside(w);
  }
}

function report(name: string, t: ClassTally, note = ''): void {
  console.log(`      ${name}: ${t.rounds} rounds, ${t.swaps} swaps, ${t.failures.length} rounds outside volume A${note}`);
  assert.ok(t.swaps > 0, `${name}: the swapper made no exchange`);
  if (fullReliability) assert.ok(t.swaps >= fullSwaps, `${name}: only ${t.swaps} swaps in ${t.rounds} rounds`);
  assert.deepEqual(t.failures, [], `${name}: ${t.failures.length} of ${t.rounds} rounds went outside volume A (${t.swaps} swaps)`);
}

/** The flip of round i points at the host trap or at tenant B's data, in turn. */
const targetOf = (w: TreeRaceWorld, i: number): string => (i % 2 === 0 ? w.trap : w.tenantBData);

describe('races: clone, restore and delete while a pod flips a directory of its volume with a symlink out of it', function () {
  this.timeout(scaled(300_000, 3_600_000));
  let w: TreeRaceWorld;
  before(async () => {
    w = await startTreeRaceWorld();
  });
  after(() => stopAndClean(w?.d));
  const c = () => w.d.client.controller;

  it('clone: never copies a file from outside the source volume', async () => {
    const t: ClassTally = { rounds: scaled(12, 400), swaps: 0, failures: [] };
    const a = await createVolume(w.d.client, 'tree-race-clone-src');
    for (let i = 0; i < t.rounds; i++) {
      const pair = plantFlip(w, a, targetOf(w, i));
      const name = `tree-race-clone-${i}`;
      const r = await whileFlipping(pair, () =>
        c().CreateVolume({ ...volumeRequest(name), volume_content_source: { volume: { volume_id: a } } }),
      );
      t.swaps += r.swaps;
      const extra: string[] = [];
      if (r.error) extra.push(`CreateVolume failed: ${(r.error as Error).message}`);
      const id = r.value?.volume?.volume_id;
      if (id) {
        const leaks = leakedMarkers(dataDir(w, id));
        if (leaks.length > 0) extra.push(`the clone holds ${leaks.length} files from outside: ${leaks.slice(0, 3).join(', ')}`);
        if (!existsSync(path.join(dataDir(w, id), 'own.txt'))) extra.push("the clone lacks the source volume's own file");
        await c().DeleteVolume({ volume_id: id });
      }
      check(w, t, `round ${i}`, extra);
    }
    report('clone', t);
  });

  it('restore: a snapshot taken while flipping restores nothing from outside the source volume', async () => {
    const t: ClassTally = { rounds: scaled(6, 150), swaps: 0, failures: [] };
    const a = await createVolume(w.d.client, 'tree-race-restore-src');
    let restored = 0;
    let aborted = 0;
    for (let i = 0; i < t.rounds; i++) {
      const pair = plantFlip(w, a, targetOf(w, i));
      // Several snapshots per flip: each archive is small, so one swapper run covers many.
      const snaps: string[] = [];
      const extra: string[] = [];
      const r = await whileFlipping(pair, async () => {
        for (let k = 0; k < 3; k++)
          snaps.push((await c().CreateSnapshot({ name: `tree-race-snap-${i}-${k}`, source_volume_id: a })).snapshot!.snapshot_id);
      });
      t.swaps += r.swaps;
      // A pod that keeps changing its volume under tar may get ABORTED (nothing read outside; retry later).
      if (r.error && codeOf(r.error) !== grpc.status.ABORTED) extra.push(`CreateSnapshot failed: ${(r.error as Error).message}`);
      restored += snaps.length;
      if (r.error && codeOf(r.error) === grpc.status.ABORTED) aborted++;
      for (const [k, snap] of snaps.entries()) {
        const res = await c().CreateVolume({
          ...volumeRequest(`tree-race-restored-${i}-${k}`),
          volume_content_source: { snapshot: { snapshot_id: snap } },
        });
        const id = res.volume!.volume_id;
        const leaks = leakedMarkers(dataDir(w, id));
        if (leaks.length > 0) extra.push(`restore ${k} holds ${leaks.length} files from outside: ${leaks.slice(0, 3).join(', ')}`);
        await c().DeleteVolume({ volume_id: id });
        await c().DeleteSnapshot({ snapshot_id: snap });
      }
      check(w, t, `round ${i}`, extra);
    }
    report('restore', t, `; ${restored} snapshots restored, ${aborted} answered ABORTED`);
    assert.ok(restored > 0, 'no snapshot was taken while flipping, so nothing was restored');
  });

  it('delete: never removes a file outside the volume', async () => {
    const t: ClassTally = { rounds: scaled(12, 300), swaps: 0, failures: [] };
    for (let i = 0; i < t.rounds; i++) {
      const a = await createVolume(w.d.client, 'tree-race-delete');
      const pair = plantFlip(w, a, targetOf(w, i));
      const r = await whileFlipping(pair, () => c().DeleteVolume({ volume_id: a }));
      t.swaps += r.swaps;
      const extra: string[] = [];
      // A pod writing while its volume goes may make the delete answer "in use"; nothing else.
      if (r.error && codeOf(r.error) !== grpc.status.FAILED_PRECONDITION) extra.push(`DeleteVolume failed: ${(r.error as Error).message}`);
      check(w, t, `round ${i}`, extra);
      // Outside the race, the volume goes for good.
      await c().DeleteVolume({ volume_id: a });
      if (existsSync(path.join(w.d.dirs.share, 'volumes', a)))
        t.failures.push(`round ${i}: volume ${a} is still on the share after DeleteVolume`);
    }
    report('delete', t);
  });
});
