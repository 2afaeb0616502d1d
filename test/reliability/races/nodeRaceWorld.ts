import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readMountTable, type MountEntry } from '../../../src/mount/mountTable';
import { listTree } from '../../conformance/conformanceKit';
import { mountCap } from '../../helpers/publish';
import { driverDirs, startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { mountsUnder, unmountLeftovers } from '../../helpers/cleanup';
import { isWithin } from '../fuzz/pathSafety';

/** Which node call races the swapper. */
export type NodeRaceClass = 'publish' | 'stage' | 'unpublish' | 'unstage';

/**
 * One race: a driver whose --kubelet-dir is `root`, a trap directory outside it, and a parent
 * component of the raced path (`real`) that the swapper exchanges with `link`, a symlink to the
 * trap. For the unmount classes a foreign tmpfs is mounted in the trap exactly where the raced
 * path lands when `real` is the symlink.
 */
export interface NodeRaceWorld {
  cls: NodeRaceClass;
  driver: DriverProcess;
  root: string;
  trap: string;
  /** The directory the swapper flips, and its swap partner (a symlink into the trap). */
  real: string;
  link: string;
  volumeId: string;
  volumeContext: Record<string, string>;
  staging: string;
  target: string;
  /** The foreign mount in the trap (unpublish/unstage classes). */
  foreign?: string;
  trapTreeBefore: string[];
  mountIdsBefore: Set<number>;
}

/** Builds the directories, the volume, the foreign mount, and starts the driver. */
export async function createRaceWorld(cls: NodeRaceClass): Promise<NodeRaceWorld> {
  const dirs = driverDirs(`csi-race-${cls}-`);
  const root = dirs.root;
  const trap = mkdtempSync(path.join(os.tmpdir(), `csi-race-trap-${cls}-`));
  const swapsTarget = cls === 'publish' || cls === 'unpublish';
  const real = path.join(root, swapsTarget ? 'pods' : 'staging', 'p');
  const link = `${real}-swap`;
  mkdirSync(real, { recursive: true });
  mkdirSync(path.join(trap, 'p'), { recursive: true });
  symlinkSync(path.join(trap, 'p'), link);
  const mountIdsBefore = new Set((await readMountTable()).map((e) => e.mountId));
  const driver = await startDriverProcess(['--health-api', 'v1.12'], dirs);
  const { volume } = await driver.client.controller.CreateVolume({ name: `race-${cls}`, volume_capabilities: [mountCap] });
  const volumeId = volume!.volume_id;
  const staging = swapsTarget ? path.join(root, 'staging', 'v', volumeId) : path.join(real, volumeId);
  const target = swapsTarget ? path.join(real, 'mount') : path.join(root, 'pods', 'q', 'mount');
  const w: NodeRaceWorld = {
    cls,
    driver,
    root,
    trap,
    real,
    link,
    volumeId,
    volumeContext: volume!.volume_context ?? {},
    staging,
    target,
    trapTreeBefore: [],
    mountIdsBefore,
  };
  if (cls === 'unpublish' || cls === 'unstage') {
    // Where the raced path lands through the symlink: a mount that is not the driver's.
    const foreign = path.join(trap, 'p', path.basename(swapsTarget ? target : staging));
    mkdirSync(foreign);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'csi-race-foreign', foreign], { timeout: 10_000 });
    writeFileSync(path.join(foreign, 'keep'), 'foreign\n');
    w.foreign = foreign;
  }
  w.trapTreeBefore = listTree(trap);
  return w;
}

/**
 * Mounts made since the world was built that this race answers for: in its root, in its trap,
 * or anywhere outside the temp directory (other suites mount under /tmp in parallel).
 */
export async function newMounts(w: NodeRaceWorld): Promise<MountEntry[]> {
  const ours = (p: string): boolean => isWithin(p, w.root) || isWithin(p, w.trap) || !isWithin(p, os.tmpdir());
  return (await readMountTable()).filter((e) => !w.mountIdsBefore.has(e.mountId) && e.source !== 'csi-race-foreign' && ours(e.mountPoint));
}

/** Everything that must never happen, whenever it is checked: a mount outside the kubelet dir, a new entry in the trap, the foreign mount gone. */
export async function escapes(w: NodeRaceWorld): Promise<string[]> {
  const problems: string[] = [];
  for (const e of await newMounts(w)) {
    if (!isWithin(e.mountPoint, w.root)) problems.push(`mounted outside the kubelet dir: ${e.mountPoint} (${e.fsType} ${e.root})`);
  }
  if (w.foreign) {
    const table = await readMountTable();
    if (!table.some((e) => e.mountPoint === w.foreign && e.source === 'csi-race-foreign'))
      problems.push(`the foreign mount at ${w.foreign} was unmounted`);
    if (!existsSync(w.foreign)) problems.push(`the foreign mount point ${w.foreign} was removed`);
    else if (!existsSync(path.join(w.foreign, 'keep'))) problems.push(`the foreign mount ${w.foreign} lost its file`);
  }
  const before = new Set(w.trapTreeBefore);
  const trapNow = listTree(w.trap);
  for (const e of trapNow) if (!before.has(e)) problems.push(`created in the trap: ${e}`);
  for (const e of w.trapTreeBefore) if (!trapNow.includes(e)) problems.push(`removed from the trap: ${e}`);
  return problems;
}

/** Puts the real directory back under its own name (the swapper may have stopped mid-flip). */
export function unflip(w: NodeRaceWorld): void {
  if (lstatSync(w.real).isSymbolicLink()) {
    const tmp = `${w.real}-unflip`;
    renameSync(w.real, tmp);
    renameSync(w.link, w.real);
    renameSync(tmp, w.link);
  }
}

/** Stops the driver, takes off every mount the race left, removes the directories (never through a mount). */
export async function destroyRaceWorld(w: NodeRaceWorld): Promise<void> {
  await w.driver.stop();
  await unmountLeftovers(w.root);
  if (w.foreign) await unmountLeftovers(w.foreign);
  await unmountLeftovers(w.trap);
  if (process.env.KEEP_TEST_DIRS === '1') return;
  for (const dir of [w.root, w.trap]) if ((await mountsUnder(dir)).length === 0) rmSync(dir, { recursive: true, force: true });
}
