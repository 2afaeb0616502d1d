import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readMountTable } from '../../src/mount/mountTable';
import type { DriverProcess } from './driverProcess';

/** The mount points in the kernel's mount table, sorted (duplicates kept: stacked mounts count). */
export async function mountPoints(): Promise<string[]> {
  return (await readMountTable()).map((e) => e.mountPoint).sort();
}

/** The mount points at or under `dir`. */
export async function mountsUnder(dir: string): Promise<string[]> {
  return (await mountPoints()).filter((p) => p === dir || p.startsWith(dir + '/'));
}

/** Lazily unmounts whatever a failed test left mounted under `dir`, deepest first; a no-op when all went well. */
export async function unmountLeftovers(dir: string): Promise<void> {
  for (const p of (await mountsUnder(dir)).reverse()) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/**
 * Stops a driver and removes its temp directory, after taking off any mount a failed test left
 * there (so that no removal can reach through a mount). KEEP_TEST_DIRS=1 keeps the directory.
 */
export async function stopAndClean(d: DriverProcess | undefined): Promise<void> {
  if (!d) return;
  await d.stop();
  await unmountLeftovers(d.dirs.root);
  if (process.env.KEEP_TEST_DIRS === '1' || (await mountsUnder(d.dirs.root)).length > 0) return;
  rmSync(d.dirs.root, { recursive: true, force: true });
}
