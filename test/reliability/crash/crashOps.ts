import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { idFromName } from '../../../src/backend/ids';
import type { CsiClient } from '../../helpers/csiClient';
import type { DriverDirs } from '../../helpers/driverProcess';
import { mountCap } from '../../helpers/publish';
import { archiveListing, mountsByPath, readNodeState, showsVolume } from '../concurrency/shareAudit';
import type { SeededRandom } from '../concurrency/seededRandom';

const MiB = 1024 * 1024;

/** What the CO believes exists: the outcome of every call that has returned OK. */
export interface CrashModel {
  /** Volumes by id, with the files the test wrote into each. */
  volumes: Map<string, { name: string; capacity: number; files: string[] }>;
  /** Snapshots by id. */
  snapshots: Map<string, { name: string; source: string; files: string[] }>;
  /** Staging path by volume id. */
  staged: Map<string, string>;
  /** Published targets: target path -> volume id. */
  published: Map<string, string>;
}

export const emptyModel = (): CrashModel => ({ volumes: new Map(), snapshots: new Map(), staged: new Map(), published: new Map() });

/** How far the killed call got, judged from the disk, the mount table and the node records. */
export type Phase = 'none' | 'partial' | 'complete';

export const rpcNames = [
  'CreateVolume',
  'CreateSnapshot',
  'NodeStageVolume',
  'NodePublishVolume',
  'NodeUnpublishVolume',
  'NodeUnstageVolume',
  'DeleteVolume',
] as const;
export type CrashRpc = (typeof rpcNames)[number];

/** One call of a round, bound to its arguments. */
export interface PlannedCall {
  rpc: CrashRpc;
  what: string;
  call: (client: CsiClient) => Promise<unknown>;
  /** An intermediate state on disk, polled to kill the driver in the middle of the call. */
  midway: () => Promise<boolean>;
  phase: () => Promise<Phase>;
  /** The mount the call takes down, if it does. */
  takesDown?: string;
  /** After the retry succeeded: checks what it made and records it in the model. */
  settle: (value: unknown) => Promise<void>;
}

interface Env {
  dirs: DriverDirs;
  model: CrashModel;
  random: SeededRandom;
}

/** The calls the CO may make now, with weights: the four of the brief often, the take-downs now and then. */
export function candidates(m: CrashModel): Array<[CrashRpc, number]> {
  const unstaged = [...m.volumes.keys()].filter((id) => !m.staged.has(id));
  const busy = new Set(m.published.values());
  const out: Array<[CrashRpc, number]> = [];
  if (m.volumes.size < 8) out.push(['CreateVolume', 3]);
  if (m.volumes.size > 0 && m.snapshots.size < 8) out.push(['CreateSnapshot', 3]);
  if (unstaged.length > 0) out.push(['NodeStageVolume', 3]);
  if (m.staged.size > 0 && m.published.size < 10) out.push(['NodePublishVolume', 3]);
  if (m.published.size > 0) out.push(['NodeUnpublishVolume', 1]);
  if ([...m.staged.keys()].some((id) => !busy.has(id))) out.push(['NodeUnstageVolume', 1]);
  if (unstaged.length > 0 && (m.volumes.size >= 8 || unstaged.length > 2)) out.push(['DeleteVolume', 1]);
  return out;
}

/** The calls the brief names; the take-downs come on top. */
const mainRpcs = ['CreateVolume', 'CreateSnapshot', 'NodeStageVolume', 'NodePublishVolume'] as const;

/** A weighted choice among the calls possible now; half the time the one of the main four used least so far, so that short runs cover them all. */
export function pickRpc(m: CrashModel, random: SeededRandom, used: Map<CrashRpc, number>): CrashRpc {
  const list = candidates(m);
  const main = list.filter(([r]) => (mainRpcs as readonly string[]).includes(r));
  if (main.length > 0 && random.chance(0.5)) return [...main].sort(([a], [b]) => (used.get(a) ?? 0) - (used.get(b) ?? 0))[0]![0];
  let r = random.next() * list.reduce((s, [, w]) => s + w, 0);
  for (const [rpc, w] of list) if ((r -= w) < 0) return rpc;
  return list[list.length - 1]![0];
}

const inState = (dirs: DriverDirs, p: string) => readNodeState(dirs.state).records.some((r) => r.path === p);
const mountCount = async (dirs: DriverDirs, p: string) => ((await mountsByPath(dirs.root)).get(p) ?? []).length;

/** Phase of a call that makes a mount: nothing, a directory or a mount without its record, or both. */
async function mountPhase(dirs: DriverDirs, p: string): Promise<Phase> {
  const mounted = (await mountCount(dirs, p)) > 0;
  if (mounted && inState(dirs, p)) return 'complete';
  return mounted || existsSync(p) ? 'partial' : 'none';
}

/** Phase of a call that takes a mount down. */
async function unmountPhase(dirs: DriverDirs, p: string): Promise<Phase> {
  const mounted = (await mountCount(dirs, p)) > 0;
  if (mounted && inState(dirs, p)) return 'none';
  return mounted || existsSync(p) || inState(dirs, p) ? 'partial' : 'complete';
}

/** The call of `rpc` for this round, on objects of the model. */
export function planCall(rpc: CrashRpc, round: number, env: Env): PlannedCall {
  const { dirs, model: m, random } = env;
  const volumeDir = (id: string) => path.join(dirs.share, 'volumes', id);
  switch (rpc) {
    case 'CreateVolume': {
      // Kubernetes-style names keep their name as id; others are hashed: both paths.
      const name = random.chance(0.75) ? `pvc-crash-${round}` : `Crash Claim #${round}`;
      const id = idFromName(name);
      const capacity = (1 + random.int(8)) * MiB;
      // Some volumes are restored from a snapshot: the kill may then hit the unpacking.
      const from = m.snapshots.size > 0 && random.chance(0.3) ? random.pick([...m.snapshots.keys()]) : undefined;
      return {
        rpc,
        what: `CreateVolume ${name}${from ? ` from ${from}` : ''}`,
        call: (c) =>
          c.controller.CreateVolume({
            name,
            volume_capabilities: [mountCap],
            capacity_range: { required_bytes: String(capacity), limit_bytes: '0' },
            ...(from ? { volume_content_source: { snapshot: { snapshot_id: from } } } : {}),
          }),
        midway: async () => existsSync(path.join(volumeDir(id), 'data')),
        phase: async () =>
          existsSync(path.join(volumeDir(id), 'volume.json')) ? 'complete' : existsSync(volumeDir(id)) ? 'partial' : 'none',
        settle: async (v) => {
          const vol = (v as { volume: { volume_id: string; capacity_bytes: string } }).volume;
          assert.equal(vol.volume_id, id, 'the retry returns the id of the name');
          assert.equal(Number(vol.capacity_bytes), capacity);
          const restored = from ? m.snapshots.get(from)!.files : [];
          assert.deepEqual(
            readdirSync(path.join(volumeDir(id), 'data'))
              .filter((f) => f !== '.csi-health')
              .sort(),
            [...restored].sort(),
            'the data restored in full',
          );
          const own = `file-${round}.txt`;
          writeFileSync(path.join(volumeDir(id), 'data', own), `volume ${name}, round ${round}\n`);
          m.volumes.set(id, { name, capacity, files: [...restored, own] });
        },
      };
    }
    case 'CreateSnapshot': {
      const source = random.pick([...m.volumes.keys()]);
      const name = `snap-crash-${round}`;
      const id = idFromName(name);
      const dir = path.join(dirs.share, 'snapshots', id);
      return {
        rpc,
        what: `CreateSnapshot ${name} of ${source}`,
        call: (c) => c.controller.CreateSnapshot({ name, source_volume_id: source, parameters: {}, secrets: {} }),
        midway: async () => existsSync(dir),
        phase: async () => (existsSync(path.join(dir, 'snapshot.json')) ? 'complete' : existsSync(dir) ? 'partial' : 'none'),
        settle: async (v) => {
          const snap = (v as { snapshot: { snapshot_id: string; source_volume_id: string; ready_to_use: boolean } }).snapshot;
          assert.deepEqual([snap.snapshot_id, snap.source_volume_id, snap.ready_to_use], [id, source, true]);
          const files = [...m.volumes.get(source)!.files];
          const listed = archiveListing(dirs.share, id).map((f) => f.replace(/^\.\//, ''));
          assert.deepEqual(listed.sort(), [...files].sort(), `snapshot ${id} archived the volume's files`);
          m.snapshots.set(id, { name, source, files });
        },
      };
    }
    case 'NodeStageVolume': {
      const id = random.pick([...m.volumes.keys()].filter((v) => !m.staged.has(v)));
      const staging = path.join(dirs.root, 'staging', id);
      return {
        rpc,
        what: `NodeStageVolume ${id}`,
        call: (c) =>
          c.node.NodeStageVolume({ volume_id: id, staging_target_path: staging, volume_capability: mountCap, volume_context: {} }),
        midway: async () => existsSync(staging),
        phase: () => mountPhase(dirs, staging),
        settle: async () => {
          m.staged.set(id, staging);
        },
      };
    }
    case 'NodePublishVolume': {
      const id = random.pick([...m.staged.keys()]);
      const staging = m.staged.get(id)!;
      const target = path.join(dirs.root, 'pods', `pod-${round}`, 'mount');
      return {
        rpc,
        what: `NodePublishVolume ${id} at pod-${round}`,
        call: (c) =>
          c.node.NodePublishVolume({
            volume_id: id,
            staging_target_path: staging,
            target_path: target,
            volume_capability: mountCap,
            readonly: false,
            volume_context: {},
          }),
        midway: async () => existsSync(target),
        phase: () => mountPhase(dirs, target),
        settle: async () => {
          m.published.set(target, id);
        },
      };
    }
    case 'NodeUnpublishVolume': {
      const target = random.pick([...m.published.keys()]);
      const id = m.published.get(target)!;
      return {
        rpc,
        what: `NodeUnpublishVolume ${id} at ${path.basename(path.dirname(target))}`,
        takesDown: target,
        call: (c) => c.node.NodeUnpublishVolume({ volume_id: id, target_path: target }),
        midway: async () => (await mountCount(dirs, target)) === 0,
        phase: () => unmountPhase(dirs, target),
        settle: async () => {
          m.published.delete(target);
        },
      };
    }
    case 'NodeUnstageVolume': {
      const busy = new Set(m.published.values());
      const id = random.pick([...m.staged.keys()].filter((v) => !busy.has(v)));
      const staging = m.staged.get(id)!;
      return {
        rpc,
        what: `NodeUnstageVolume ${id}`,
        takesDown: staging,
        call: (c) => c.node.NodeUnstageVolume({ volume_id: id, staging_target_path: staging }),
        midway: async () => (await mountCount(dirs, staging)) === 0,
        phase: () => unmountPhase(dirs, staging),
        settle: async () => {
          m.staged.delete(id);
        },
      };
    }
    case 'DeleteVolume': {
      const id = random.pick([...m.volumes.keys()].filter((v) => !m.staged.has(v)));
      return {
        rpc,
        what: `DeleteVolume ${id}`,
        call: (c) => c.controller.DeleteVolume({ volume_id: id }),
        midway: async () => !existsSync(path.join(volumeDir(id), 'volume.json')),
        phase: async () =>
          existsSync(path.join(volumeDir(id), 'volume.json')) ? 'none' : existsSync(volumeDir(id)) ? 'partial' : 'complete',
        settle: async () => {
          m.volumes.delete(id);
        },
      };
    }
  }
}

/** Every mount the model expects: staging paths and targets, with their volume. */
export function expectedMounts(m: CrashModel): Map<string, string> {
  return new Map([...[...m.staged].map(([id, p]) => [p, id] as const), ...m.published]);
}

/** The mounts under the run root match the model: each expected one exactly once and showing its volume, nothing else. */
export async function checkMounts(dirs: DriverDirs, m: CrashModel): Promise<void> {
  const expected = expectedMounts(m);
  const mounts = await mountsByPath(dirs.root);
  assert.deepEqual([...mounts.keys()].sort(), [...expected.keys()].sort(), 'no orphaned mount, none missing');
  for (const [p, id] of expected) {
    const at = mounts.get(p)!;
    assert.equal(at.length, 1, `${p} is mounted exactly once (no stacked duplicate)`);
    assert.ok(showsVolume(at[0]!, id), `${p} shows volume ${id} (${at[0]!.root})`);
  }
  // NodeUnpublish and NodeUnstage remove their directory; a retried publish or stage leaves none extra.
  const dirsLeft = [
    ...readdirSafe(path.join(dirs.root, 'pods')).map((t) => path.join(dirs.root, 'pods', t, 'mount')),
    ...readdirSafe(path.join(dirs.root, 'staging')).map((v) => path.join(dirs.root, 'staging', v)),
  ].filter((p) => existsSync(p));
  assert.deepEqual(dirsLeft.sort(), [...expected.keys()].sort(), 'no orphaned staging or target directory');
}

function readdirSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
