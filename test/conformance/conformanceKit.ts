import { lstatSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { readMountTable } from '../../src/backend/mountTable';
import type { VolumeCapability } from '../../src/gen/csi/v1/VolumeCapability';
import type { CreateVolumeRequest } from '../../src/gen/csi/v1/CreateVolumeRequest';
import type { CsiClient } from '../helpers/csiClient';
import type { DriverProcess } from '../helpers/driverProcess';

/** What the conformance suite shares: capabilities, request builders, and views of disk and mount table. */

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

type Mode = NonNullable<NonNullable<VolumeCapability['access_mode']>['mode']>;

/** A filesystem (mount) capability, the only access type this driver serves. */
export function mountCap(mode: Mode = 'SINGLE_NODE_WRITER'): VolumeCapability {
  return { access_mode: { mode }, mount: { fs_type: '', mount_flags: [] } };
}

/** A raw block capability, which a filesystem driver refuses. */
export function blockCap(mode: Mode = 'SINGLE_NODE_WRITER'): VolumeCapability {
  return { access_mode: { mode }, block: {} };
}

/** A CreateVolumeRequest with a mount capability and an optional size. */
export function volumeRequest(name: string, requiredBytes?: number, limitBytes?: number): CreateVolumeRequest {
  return {
    name,
    volume_capabilities: [mountCap()],
    ...(requiredBytes !== undefined || limitBytes !== undefined
      ? { capacity_range: { required_bytes: requiredBytes ?? 0, limit_bytes: limitBytes ?? 0 } }
      : {}),
  };
}

/** Creates a volume and returns its id. */
export async function createVolume(client: CsiClient, name: string, requiredBytes?: number): Promise<string> {
  const res = await client.controller.CreateVolume(volumeRequest(name, requiredBytes));
  const id = res.volume?.volume_id;
  if (!id) throw new Error(`CreateVolume ${name} returned no volume id`);
  return id;
}

/**
 * Every entry below `root` as `relative/path:type` (d, f, l, s or o), sorted; `skip` names
 * relative paths that are listed but not descended into. Used to prove what a call did or did not make.
 */
export function listTree(root: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, name);
      const st = lstatSync(full);
      const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : st.isSocket() ? 's' : 'o';
      out.push(`${childRel}:${type}`);
      if (st.isDirectory() && !skip.includes(childRel)) walk(full, childRel);
    }
  };
  walk(root, '');
  return out.sort();
}

/** The mount points in the kernel's mount table, sorted (duplicates kept: stacked mounts count). */
export async function mountPoints(): Promise<string[]> {
  return (await readMountTable()).map((e) => e.mountPoint).sort();
}

/** The mount points at or under `dir`. */
export async function mountsUnder(dir: string): Promise<string[]> {
  return (await mountPoints()).filter((p) => p === dir || p.startsWith(dir + '/'));
}

/** Collects every page of ListVolumes with the given page size. */
export async function listAllVolumeIds(client: CsiClient, maxEntries = 0): Promise<string[]> {
  const ids: string[] = [];
  let token = '';
  for (let i = 0; i < 1000; i++) {
    const page = await client.controller.ListVolumes({ max_entries: maxEntries, starting_token: token });
    ids.push(...page.entries.map((e) => e.volume?.volume_id ?? ''));
    token = page.next_token;
    if (!token) return ids;
  }
  throw new Error('ListVolumes never ended');
}

/** Lazily unmounts whatever a failed test left mounted under `dir`, deepest first; a no-op when all went well. */
export async function unmountLeftovers(dir: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
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
