import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readMountTable, type MountEntry } from '../../../src/mount/mountTable';
import { listTree } from '../../conformance/conformanceKit';
import type { FuzzWorld } from './fuzzWorld';
import { isRunOutsidePath, isWithin } from './pathSafety';

/** What the disk and the mount table looked like before the driver started. */
export interface Baseline {
  mounts: MountEntry[];
  rootTree: string[];
  kubeletTree: string[];
  outsideEntries: string[];
}

/** Entries of /tmp and / named like this run's outside paths. */
export function outsideEntries(w: FuzzWorld): string[] {
  const out: string[] = [];
  for (const parent of [os.tmpdir(), '/']) {
    for (const name of readdirSync(parent)) if (name.startsWith(w.outsidePrefix)) out.push(path.join(parent, name));
  }
  return out.sort();
}

export async function takeBaseline(w: FuzzWorld): Promise<Baseline> {
  return {
    mounts: await readMountTable(),
    rootTree: listTree(w.dirs.root, ['kubelet']),
    kubeletTree: listTree(w.kubelet),
    outsideEntries: outsideEntries(w),
  };
}

/**
 * Mounts this run is answerable for: its root, its outside paths, and anything outside the temp
 * directory (other suites may mount under /tmp in parallel; those are theirs).
 */
function ours(e: MountEntry, w: FuzzWorld): boolean {
  const tmp = os.tmpdir();
  return isWithin(e.mountPoint, w.dirs.root) || isRunOutsidePath(e.mountPoint, w) || !isWithin(e.mountPoint, tmp);
}

/** The mounts of ours that appeared since the baseline. */
export async function newMounts(b: Baseline, w: FuzzWorld): Promise<MountEntry[]> {
  const before = new Set(b.mounts.map((e) => e.mountId));
  return (await readMountTable()).filter((e) => !before.has(e.mountId) && ours(e, w));
}

/**
 * Problems with the mounts now: a mount that is not a volume's data directory (the driver bound
 * something else: a foreign mount given as a staging path), a mount anywhere but under the
 * kubelet directory (--kubelet-dir), and any mount of the baseline (the host's, the decoy) that is gone.
 */
export async function mountProblems(b: Baseline, w: FuzzWorld): Promise<string[]> {
  const problems: string[] = [];
  const volumeData = new RegExp(`/${escapeRegExp(path.basename(w.dirs.root))}/share/volumes/[^/]+/data(//deleted)?$`);
  const now = await readMountTable();
  const before = new Set(b.mounts.map((e) => e.mountId));
  for (const e of now) {
    if (before.has(e.mountId) || !ours(e, w)) continue;
    if (!volumeData.test(e.root))
      problems.push(`${e.mountPoint} is a mount of ${e.fsType} ${e.source}:${e.root}, not of a volume's data directory`);
    if (!isWithin(e.mountPoint, w.kubelet)) problems.push(`${e.mountPoint} is mounted outside the kubelet directory`);
  }
  const present = new Set(now.map((e) => e.mountId));
  for (const e of b.mounts) {
    if (!present.has(e.mountId) && ours(e, w)) problems.push(`${e.mountPoint} (${e.fsType}), mounted before the run, is gone`);
  }
  return problems;
}

/** After the run and the clean-up: nothing left outside the roots, the decoys untouched, the share holding only volumes and snapshots. */
export function diskProblems(b: Baseline, w: FuzzWorld): { problems: string[]; kubeletLeftovers: string[] } {
  const problems: string[] = [];
  const allowedNew = new Set(['csi.sock:s', 'driver.log:f', 'share:d', 'state:d']);
  const before = new Set(b.rootTree);
  for (const e of listTree(w.dirs.root, ['kubelet', 'share', 'state'])) {
    if (!before.has(e) && !allowedNew.has(e)) problems.push(`created in the run's root, outside share/, state/ and kubelet/: ${e}`);
  }
  const beforeOutside = new Set(b.outsideEntries);
  for (const p of outsideEntries(w))
    if (!beforeOutside.has(p)) problems.push(`created outside the run's root: ${p} (${listTree(p).slice(0, 5).join(', ')})`);
  const d = w.decoys;
  for (const m of [d.mount, d.foreignMount]) if (!existsSync(path.join(m, 'keep'))) problems.push(`the decoy mount ${m} lost its file`);
  if (!existsSync(d.kubeletFile)) problems.push(`the kubelet's file ${d.kubeletFile} was removed`);
  for (const dir of [d.emptyDir, d.linkedDir]) {
    if (!existsSync(dir)) problems.push(`the decoy directory ${dir} was removed`);
    else if (readdirSync(dir).length > 0) problems.push(`the decoy directory ${dir} now holds ${readdirSync(dir).join(', ')}`);
  }
  if (!existsSync(d.file) || readFileSync(d.file, 'utf8') !== 'decoy\n') problems.push(`the decoy file ${d.file} was changed`);
  problems.push(...shareProblems(w));
  const stateExtra = readdirSync(w.dirs.state).filter((n) => n !== 'node-mounts.json');
  if (stateExtra.length > 0) problems.push(`state/ holds more than node-mounts.json: ${stateExtra.join(', ')}`);
  const kubeletBefore = new Set(b.kubeletTree);
  return { problems, kubeletLeftovers: listTree(w.kubelet).filter((e) => !kubeletBefore.has(e)) };
}

/**
 * The share holds volumes/<id>/{volume.json,data}, snapshots/<id>/snapshot.json and
 * registry/volumes/<id>.json for volumes that are there, nothing else.
 */
function shareProblems(w: FuzzWorld): string[] {
  const problems: string[] = [];
  const share = w.dirs.share;
  const top = readdirSync(share).sort();
  if (top.join(',') !== 'registry,snapshots,volumes') problems.push(`the share's top level is ${top.join(', ')}`);
  const registry = path.join(share, 'registry', 'volumes');
  for (const entry of existsSync(registry) ? readdirSync(registry) : []) {
    const id = entry.replace(/\.json$/, '');
    if (!entry.endsWith('.json') || !existsSync(path.join(share, 'volumes', id, 'volume.json')))
      problems.push(`registry/volumes/${entry} names no volume on the share`);
  }
  for (const [kind, record] of [
    ['volumes', 'volume.json'],
    ['snapshots', 'snapshot.json'],
  ] as const) {
    const dir = path.join(share, kind);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!existsSync(path.join(dir, name, record)))
        problems.push(`${kind}/${name} on the share has no ${record}: ${listTree(path.join(dir, name)).slice(0, 5).join(', ')}`);
    }
  }
  return problems;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
