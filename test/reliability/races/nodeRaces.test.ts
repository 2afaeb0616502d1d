import { strict as assert } from 'node:assert';
import { scaled } from '../reliabilityScale';
import { grpc } from '../../helpers/csiClient';
import { mountCap } from '../../helpers/publish';
import { startSwapper } from './swapper';
import { createRaceWorld, destroyRaceWorld, escapes, newMounts, unflip, type NodeRaceClass, type NodeRaceWorld } from './nodeRaceWorld';

/** Seconds each class races: a few in `npm test`, a minute in the full run (tens of millions of swaps). */
const raceMs = scaled(4_000, 60_000);

/** The codes a node call may answer while a component of its path flips: a clear refusal, or OK. */
const allowedCodes = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION, grpc.status.NOT_FOUND]);

interface Tally {
  calls: number;
  ok: number;
  refused: number;
  codes: Record<string, number>;
}

function codeOf(err: unknown): number {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : -1;
}

/** Runs one call, counts its answer, and fails the test on an answer outside `allowedCodes`. */
async function call(t: Tally, name: string, fn: () => Promise<unknown>): Promise<boolean> {
  t.calls++;
  try {
    await fn();
    t.ok++;
    t.codes[`${name} OK`] = (t.codes[`${name} OK`] ?? 0) + 1;
    return true;
  } catch (err) {
    const code = codeOf(err);
    const key = `${name} ${grpc.status[code] ?? code}`;
    t.codes[key] = (t.codes[key] ?? 0) + 1;
    if (!allowedCodes.has(code)) throw new Error(`${name} answered ${key}: ${(err as Error).message}`);
    t.refused++;
    return false;
  }
}

const stage = (w: NodeRaceWorld) => () =>
  w.driver.client.node.NodeStageVolume({
    volume_id: w.volumeId,
    staging_target_path: w.staging,
    volume_capability: mountCap,
    volume_context: w.volumeContext,
  });
const unstage = (w: NodeRaceWorld) => () =>
  w.driver.client.node.NodeUnstageVolume({ volume_id: w.volumeId, staging_target_path: w.staging });
const publish = (w: NodeRaceWorld) => () =>
  w.driver.client.node.NodePublishVolume({
    volume_id: w.volumeId,
    staging_target_path: w.staging,
    target_path: w.target,
    volume_capability: mountCap,
    readonly: false,
    volume_context: w.volumeContext,
  });
const unpublish = (w: NodeRaceWorld) => () => w.driver.client.node.NodeUnpublishVolume({ volume_id: w.volumeId, target_path: w.target });

/** After an OK unmount call, none of this run's mounts may remain but the ones listed. */
async function leftOnlyMounts(w: NodeRaceWorld, keep: string[], what: string): Promise<void> {
  const left = (await newMounts(w)).filter((e) => !keep.includes(e.mountPoint));
  assert.deepEqual(
    left.map((e) => e.mountPoint),
    [],
    `${what} answered OK but mounts remain`,
  );
}

/** One round of the class's calls; every answer checked, every OK unmount checked in the mount table. */
async function round(w: NodeRaceWorld, t: Tally): Promise<void> {
  const swapsTarget = w.cls === 'publish' || w.cls === 'unpublish';
  if (swapsTarget) {
    // The staging path is not raced here: staged once, outside the flipped directory.
    await call(t, 'NodePublishVolume', publish(w));
    if (await call(t, 'NodeUnpublishVolume', unpublish(w))) await leftOnlyMounts(w, [w.staging], 'NodeUnpublishVolume');
  } else {
    await call(t, 'NodeStageVolume', stage(w));
    if (await call(t, 'NodeUnstageVolume', unstage(w))) await leftOnlyMounts(w, [], 'NodeUnstageVolume');
  }
  const bad = await escapes(w);
  assert.deepEqual(bad, [], `escaped during the ${w.cls} race`);
}

async function race(cls: NodeRaceClass): Promise<void> {
  const w = await createRaceWorld(cls);
  const t: Tally = { calls: 0, ok: 0, refused: 0, codes: {} };
  let swaps = 0;
  try {
    if (cls === 'publish' || cls === 'unpublish') await stage(w)();
    const swapper = await startSwapper(w.real, w.link);
    const end = Date.now() + raceMs;
    try {
      while (Date.now() < end) await round(w, t);
    } finally {
      swaps = (await swapper.stop()).swaps;
    }
    unflip(w);
    // Calm again: whatever the race left is taken down by the ordinary calls, and nothing escapes.
    if (cls === 'publish' || cls === 'unpublish') {
      await unpublish(w)();
      await unstage(w)();
    } else {
      await unstage(w)();
    }
    assert.deepEqual(
      (await newMounts(w)).map((e) => e.mountPoint),
      [],
      'mounts left after the calm clean-up',
    );
    assert.deepEqual(await escapes(w), []);
    assert.ok(swaps >= scaled(300, 10_000), `only ${swaps} swaps`);
    assert.ok(t.calls > 0);
    console.log(`      ${cls}: ${swaps} swaps, ${t.calls} CSI calls (${t.ok} OK, ${t.refused} refused) ${JSON.stringify(t.codes)}`);
  } finally {
    await destroyRaceWorld(w);
  }
}

describe('races: node calls while a parent of their path flips between a directory and a symlink out of the kubelet dir', function () {
  this.timeout(raceMs + 120_000);
  for (const cls of ['publish', 'stage', 'unpublish', 'unstage'] as const) {
    it(`${cls}: no mount, directory or unmount outside the kubelet dir; every OK unmount left nothing mounted`, () => race(cls));
  }
});
