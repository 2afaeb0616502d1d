import { lstatSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { VolumeCapability } from '../../src/gen/csi/v1/VolumeCapability';
import type { CreateVolumeRequest } from '../../src/gen/csi/v1/CreateVolumeRequest';
import type { CsiClient } from '../helpers/csiClient';
export { mountPoints, mountsUnder, unmountLeftovers, stopAndClean } from '../helpers/cleanup';

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
