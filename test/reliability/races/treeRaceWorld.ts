import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { createVolume } from '../../conformance/conformanceKit';
import { startSwapper } from './swapper';

/** Marker text of files outside volume A: finding it in a clone or restore is a leak. */
export const trapMarker = 'TREE-RACE-TRAP-MARKER';
export const tenantMarker = 'TREE-RACE-TENANT-B-MARKER';

/** Files a real directory and a trap both hold, so that a walk through the swapped name finds names it expects. */
const markerNames = ['m0.txt', 'm1.txt', 'm2.txt', 'm3.txt', 'm4.txt', 'm5.txt', 'm6.txt', 'm7.txt'];

/**
 * A driver (local backend) whose share lives under a temp root, beside a "host" trap directory
 * outside the share; tenant B, a volume holding marker files; and volume A, which a pod flips.
 */
export interface TreeRaceWorld {
  d: DriverProcess;
  trap: string;
  tenantB: string;
  tenantBData: string;
  /** The trap's entries and contents before the run: every check compares against them. */
  trapBefore: string[];
  tenantBefore: string[];
}

export function dataDir(w: TreeRaceWorld, id: string): string {
  return path.join(w.d.dirs.share, 'volumes', id, 'data');
}

/** Every entry under `root`, with its type and, for files, content; symlinks listed with their targets, never followed. */
export function snapshotOfTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      const r = `${rel}${name}`;
      if (st.isDirectory()) {
        out.push(`${r}/`);
        walk(full, `${r}/`);
      } else if (st.isSymbolicLink()) out.push(`${r} -> (link)`);
      else if (st.isFile()) out.push(`${r} = ${readFileSync(full, 'utf8')}`);
      else out.push(`${r} (special)`);
    }
  };
  walk(root, '');
  return out;
}

/** Names and contents of files under `root` (no symlink followed) that carry a trap or tenant-B marker. */
export function leakedMarkers(root: string): string[] {
  return snapshotOfTree(root).filter((e) => e.includes(trapMarker) || e.includes(tenantMarker));
}

function fillMarkers(dir: string, marker: string): void {
  mkdirSync(path.join(dir, 'deeper'), { recursive: true });
  for (const n of markerNames) {
    writeFileSync(path.join(dir, n), `${marker} ${n}\n`);
    writeFileSync(path.join(dir, 'deeper', n), `${marker} deeper/${n}\n`);
  }
}

export async function startTreeRaceWorld(): Promise<TreeRaceWorld> {
  const d = await startDriverProcess();
  const trap = path.join(d.dirs.root, 'host-trap');
  fillMarkers(trap, trapMarker);
  const tenantB = await createVolume(d.client, 'tree-race-tenant-b');
  const w: TreeRaceWorld = { d, trap, tenantB, tenantBData: '', trapBefore: [], tenantBefore: [] };
  w.tenantBData = dataDir(w, tenantB);
  fillMarkers(w.tenantBData, tenantMarker);
  w.trapBefore = snapshotOfTree(trap);
  w.tenantBefore = snapshotOfTree(w.tenantBData);
  return w;
}

/**
 * Fills volume A's data as a pod would: its own files, `flip/` (a real directory with files
 * named like the trap's) and `flipalt`, a symlink to `target` (the trap or tenant B's data).
 */
export function plantFlip(w: TreeRaceWorld, volumeId: string, target: string): { a: string; b: string } {
  const data = dataDir(w, volumeId);
  writeFileSync(path.join(data, 'own.txt'), 'volume A\n');
  const flip = path.join(data, 'flip');
  rmSync(flip, { recursive: true, force: true });
  rmSync(path.join(data, 'flipalt'), { recursive: true, force: true });
  mkdirSync(path.join(flip, 'deeper'), { recursive: true });
  for (const n of markerNames) {
    writeFileSync(path.join(flip, n), `volume A flip/${n}\n`);
    writeFileSync(path.join(flip, 'deeper', n), `volume A flip/deeper/${n}\n`);
  }
  symlinkSync(target, path.join(data, 'flipalt'));
  return { a: flip, b: path.join(data, 'flipalt') };
}

/** Runs `op` while the swapper exchanges `a` and `b`; returns the op's outcome and the swaps made. */
export async function whileFlipping<T>(
  pair: { a: string; b: string },
  op: () => Promise<T>,
  leadMs = 5,
): Promise<{ value?: T; error?: unknown; swaps: number }> {
  const s = await startSwapper(pair.a, pair.b);
  // A short lead so that the exchange is in full swing when the operation starts.
  await new Promise((r) => setTimeout(r, leadMs));
  let value: T | undefined;
  let error: unknown;
  try {
    value = await op();
  } catch (err) {
    error = err;
  }
  const { swaps } = await s.stop();
  return { ...(error === undefined ? { value: value as T } : { error }), swaps };
}

/** Puts the trap's and tenant B's markers back after a round that damaged them, so that each round counts on its own. */
export function restoreOutside(w: TreeRaceWorld): void {
  rmSync(w.trap, { recursive: true, force: true });
  fillMarkers(w.trap, trapMarker);
  for (const name of readdirSync(w.tenantBData)) rmSync(path.join(w.tenantBData, name), { recursive: true, force: true });
  fillMarkers(w.tenantBData, tenantMarker);
}

/** What went wrong outside volume A: the trap or tenant B changed. */
export function outsideProblems(w: TreeRaceWorld): string[] {
  const problems: string[] = [];
  const trapNow = snapshotOfTree(w.trap);
  if (JSON.stringify(trapNow) !== JSON.stringify(w.trapBefore)) {
    problems.push(
      `the host trap changed: missing ${diff(w.trapBefore, trapNow).join(', ')}; new ${diff(trapNow, w.trapBefore).join(', ')}`,
    );
  }
  const tenantNow = snapshotOfTree(w.tenantBData);
  if (JSON.stringify(tenantNow) !== JSON.stringify(w.tenantBefore)) {
    problems.push(
      `tenant B changed: missing ${diff(w.tenantBefore, tenantNow).join(', ')}; new ${diff(tenantNow, w.tenantBefore).join(', ')}`,
    );
  }
  return problems;
}

function diff(a: string[], b: string[]): string[] {
  const set = new Set(b);
  return a.filter((e) => !set.has(e)).slice(0, 5);
}
